"""Deliveries count how often staff asked for them to be sent again (the resent mail gets its own Message-ID).

Revision ID: 0060_resends
Revises: 0050_links
"""
from alembic import op
import sqlalchemy as sa


revision = '0060_resends'
down_revision = '0050_links'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('resends', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('resends')

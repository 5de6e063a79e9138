"""Public links: the unguessable token of each credential's page, and whether the learner shares it.

Revision ID: 0050_links
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0050_links'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credential_links',
        sa.Column('credential_id', sa.String(length=64), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('shared_changed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.PrimaryKeyConstraint('credential_id'),
        sa.UniqueConstraint('token', name='uq_credential_links_token'),
    )


def downgrade() -> None:
    op.drop_table('credential_links')

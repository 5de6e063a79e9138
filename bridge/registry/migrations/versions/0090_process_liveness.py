"""Sidecar processes prove they are alive (bridge/registry/liveness.py), and deliveries name the process
that claimed them, so the work of a process that died is taken back at once instead of after its lease.

Revision ID: 0090_liveness
Revises: 0070_staff_access
"""
from alembic import op
import sqlalchemy as sa


revision = '0090_liveness'
down_revision = '0070_staff_access'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sidecar_processes',
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('claimed_by')
    op.drop_table('sidecar_processes')

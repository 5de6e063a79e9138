"""Audit entries waiting to be linked into the chain (PostgreSQL; issue 18): written in the transaction of
the change they record, linked in order right after it commits (bridge/registry/audit.py), so no
transaction of any replica holds the chain's lock while it does its own work.

Revision ID: 0151_audit_pending
Revises: 0150_scheduled_jobs
"""
from alembic import op
import sqlalchemy as sa


revision = '0151_audit_pending'
down_revision = '0150_scheduled_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_pending',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('audit_pending')

"""Scheduled jobs run once across sidecar replicas (issue 18): one row per job, the last period it ran
for, how often and where (bridge/registry/job_runs.py).

Revision ID: 0150_scheduled_jobs
Revises: 0140_bulk_batches
"""
from alembic import op
import sqlalchemy as sa


revision = '0150_scheduled_jobs'
down_revision = '0140_bulk_batches'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scheduled_jobs',
        sa.Column('job', sa.String(length=64), nullable=False),
        sa.Column('period', sa.BigInteger(), nullable=False),
        sa.Column('runs', sa.BigInteger(), nullable=False),
        sa.Column('last_run_by', sa.String(length=128), nullable=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('job'),
    )


def downgrade() -> None:
    op.drop_table('scheduled_jobs')

"""Secrets the sidecar makes for itself and every replica of one registry shares (issue 15): the key of
the staff pages' session cookie when no staff token or identity-provider secret is configured, so a login
form served by one replica is accepted by another.

Revision ID: 0160_site_secrets
Revises: 0150_staff_accounts
"""
from alembic import op
import sqlalchemy as sa


revision = '0160_site_secrets'
down_revision = '0150_staff_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'site_secrets',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('site_secrets')

"""Staff access: server-side staff sessions (revocable: logout, expiry, role change) and failed attempts
at a staff credential (the login and Bearer throttle, shared by every process on the registry).

Revision ID: 0070_staff_access
Revises: 0060_resends
"""
from alembic import op
import sqlalchemy as sa


revision = '0070_staff_access'
down_revision = '0060_resends'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('proof', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    with op.batch_alter_table('staff_sessions') as batch:
        batch.create_index('ix_staff_sessions_actor', ['actor'], unique=False)
        batch.create_index('ix_staff_sessions_expires', ['expires_at'], unique=False)
    op.create_table(
        'auth_failures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('auth_failures') as batch:
        batch.create_index('ix_auth_failures_client', ['scope', 'client', 'at'], unique=False)


def downgrade() -> None:
    op.drop_table('auth_failures')
    op.drop_table('staff_sessions')

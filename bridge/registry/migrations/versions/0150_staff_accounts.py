"""Named staff (issue 15): local and identity-provider accounts with their roles, named API tokens kept
hashed, OpenID Connect logins under way (state, nonce, PKCE verifier, server-side), and a session's role
column wide enough for several roles.

Revision ID: 0150_staff_accounts
Revises: 0130_document_versions
"""
from alembic import op
import sqlalchemy as sa


revision = '0150_staff_accounts'
down_revision = '0130_document_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_accounts',
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('roles', sa.String(length=255), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=True),
        sa.Column('password_hash', sa.String(length=255), nullable=True),
        sa.Column('totp_secret', sa.String(length=64), nullable=True),
        sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_table(
        'api_tokens',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('roles', sa.String(length=255), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name'),
        sa.UniqueConstraint('digest'),
    )
    op.create_table(
        'oidc_logins',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('nonce', sa.String(length=128), nullable=False),
        sa.Column('code_verifier', sa.String(length=128), nullable=False),
        sa.Column('next_url', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('state_hash'),
    )
    with op.batch_alter_table('staff_sessions') as batch:
        batch.alter_column('role', existing_type=sa.String(length=32), type_=sa.String(length=255),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_sessions') as batch:
        batch.alter_column('role', existing_type=sa.String(length=255), type_=sa.String(length=32),
                           existing_nullable=False)
    op.drop_table('oidc_logins')
    op.drop_table('api_tokens')
    op.drop_table('staff_accounts')

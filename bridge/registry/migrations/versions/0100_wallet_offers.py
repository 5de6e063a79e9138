"""Wallet offers (OpenID4VCI pre-authorised code flow): the offers with their hashed codes and access
tokens, and the single-use nonces of the holders' key proofs (bridge/registry/wallet.py).

Revision ID: 0100_wallet_offers
Revises: 0090_liveness
"""
from alembic import op
import sqlalchemy as sa


revision = '0100_wallet_offers'
down_revision = '0090_liveness'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'wallet_offers',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('credential_id', sa.String(length=64), nullable=False),
        sa.Column('configuration', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('offer_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('tx_code_hash', sa.String(length=64), nullable=False),
        sa.Column('tx_code_failures', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('access_hash', sa.String(length=64), nullable=True),
        sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('holder_key', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('offer_hash'),
        sa.UniqueConstraint('code_hash'),
        sa.UniqueConstraint('access_hash'),
    )
    with op.batch_alter_table('wallet_offers') as batch:
        batch.create_index('ix_wallet_offers_credential', ['credential_id'], unique=False)
        batch.create_index('ix_wallet_offers_expires', ['expires_at'], unique=False)
    op.create_table(
        'wallet_nonces',
        sa.Column('nonce_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('nonce_hash'),
    )
    with op.batch_alter_table('wallet_nonces') as batch:
        batch.create_index('ix_wallet_nonces_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('wallet_nonces')
    op.drop_table('wallet_offers')

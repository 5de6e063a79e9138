"""Long-term seals kept verifiable (issue 13): each earlier version of a sealed document, byte-exact
(`document_versions`), and on each credential its version, whether its time-stamp is still pending and
when its newest time-stamp's TSA certificate expires (bridge/worker/upkeep.py).

Revision ID: 0130_document_versions
Revises: 0120_formats_status
"""
from alembic import op
import sqlalchemy as sa


revision = '0130_document_versions'
down_revision = '0120_formats_status'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('credential_id', sa.String(length=64), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('document', sa.LargeBinary(), nullable=False),
        sa.Column('codec', sa.String(length=32), nullable=False),
        sa.Column('dictionary_id', sa.Integer(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replaced_because', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.ForeignKeyConstraint(['dictionary_id'], ['compression_dictionaries.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credential_id', 'format', 'version', name='uq_document_version'),
    )
    op.create_index('ix_document_versions_sha256', 'document_versions', ['sha256'])
    # Plain ALTER TABLE ... ADD COLUMN: on SQLite a batch copy of `credentials` would drop the table the
    # links, deliveries and revocations point at.
    op.add_column('credentials', sa.Column('document_version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('credentials', sa.Column('timestamp_pending', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column('credentials', sa.Column('proof_expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_credentials_proof_expires', 'credentials', ['proof_expires_at'])


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it), as in upgrade.
    op.drop_index('ix_document_versions_sha256', table_name='document_versions')
    op.drop_table('document_versions')
    op.drop_index('ix_credentials_proof_expires', table_name='credentials')
    for column in ('proof_expires_at', 'timestamp_pending', 'document_version'):
        op.drop_column('credentials', column)

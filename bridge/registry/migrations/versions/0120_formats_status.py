"""ELM v3 first-class (issue 12): a credential's further serializations (a course issuing both formats gets
one credential id in two documents, `credential_documents`), and the reason category of a revocation
that the public status resource states (`revocations.category`).

Revision ID: 0120_formats_status
Revises: 0110_programmes
"""
from alembic import op
import sqlalchemy as sa


revision = '0120_formats_status'
down_revision = '0110_programmes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credential_documents',
        sa.Column('credential_id', sa.String(length=64), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('document', sa.LargeBinary(), nullable=False),
        sa.Column('codec', sa.String(length=32), nullable=False),
        sa.Column('dictionary_id', sa.Integer(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id']),
        sa.ForeignKeyConstraint(['dictionary_id'], ['compression_dictionaries.id']),
        sa.PrimaryKeyConstraint('credential_id', 'format'),
    )
    with op.batch_alter_table('revocations') as batch:
        batch.add_column(sa.Column('category', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('revocations') as batch:
        batch.drop_column('category')
    op.drop_table('credential_documents')

"""Bulk cohorts from a spreadsheet (issue 15): each uploaded file's batch and its rows (bridge/bulk/).

Revision ID: 0140_bulk_batches
Revises: 0130_document_versions
"""
from alembic import op
import sqlalchemy as sa


revision = '0140_bulk_batches'
down_revision = '0130_document_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bulk_batches',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('site_id', sa.String(length=255), nullable=False),
        sa.Column('course_id', sa.BigInteger(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('file_kind', sa.String(length=8), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_valid', sa.Integer(), nullable=False),
        sa.Column('rows_known', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('uploaded_by', sa.String(length=255), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_only', sa.Boolean(), nullable=True),
        sa.Column('issued_by', sa.String(length=255), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_count', sa.Integer(), nullable=False),
        sa.Column('duplicate_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bulk_batches_course', 'bulk_batches', ['site_id', 'course_id'])
    op.create_table(
        'bulk_rows',
        sa.Column('batch_id', sa.String(length=36), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('cells', sa.Text(), nullable=False),
        sa.Column('event', sa.Text(), nullable=True),
        sa.Column('problems', sa.Text(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=64), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('issuance_id', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['bulk_batches.id']),
        sa.PrimaryKeyConstraint('batch_id', 'row_number'),
    )
    op.create_index('ix_bulk_rows_issuance', 'bulk_rows', ['issuance_id'])


def downgrade() -> None:
    op.drop_index('ix_bulk_rows_issuance', table_name='bulk_rows')
    op.drop_table('bulk_rows')
    op.drop_index('ix_bulk_batches_course', table_name='bulk_batches')
    op.drop_table('bulk_batches')

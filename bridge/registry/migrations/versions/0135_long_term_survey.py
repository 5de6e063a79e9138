"""Credentials stored before their long-term facts were recorded (issue 13): a `long_term_surveyed` flag.

Migration 0130 added `proof_expires_at` and `timestamp_pending` but could not fill them: working out when
a seal's newest time-stamp stops proving anything means parsing the sealed document, which SQL cannot do.
Rows that exist when this migration runs are marked not surveyed; the upkeep job
(bridge/worker/upkeep.py `survey`) reads each one once, records its facts over all its formats, and sets
the flag. Rows the worker stores from now on are surveyed as they are stored.

Revision ID: 0135_long_term_survey
Revises: 0130_document_versions
"""
from alembic import op
import sqlalchemy as sa


revision = '0135_long_term_survey'
down_revision = '0130_document_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN (a batch copy of `credentials` on SQLite would drop the table the
    # links, deliveries and revocations point at); every existing row starts as "not surveyed".
    op.add_column('credentials', sa.Column('long_term_surveyed', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.create_index('ix_credentials_long_term_surveyed', 'credentials', ['long_term_surveyed'])


def downgrade() -> None:
    op.drop_index('ix_credentials_long_term_surveyed', table_name='credentials')
    op.drop_column('credentials', 'long_term_surveyed')

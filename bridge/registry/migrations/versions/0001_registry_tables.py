"""Registry tables: inbox, specifications, credentials, deliveries, revocations, nonces, audit trail.

Revision ID: 0001
Revises: (none)
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_trail',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    op.create_table('compression_dictionaries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site_id', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'course_id', name='uq_dictionary_course')
    )
    op.create_table('course_specifications',
    sa.Column('site_id', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.BigInteger(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'course_id')
    )
    op.create_table('issuances',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('site_id', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.BigInteger(), nullable=False),
    sa.Column('learner_id', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_by', sa.String(length=255), nullable=True),
    sa.Column('supersedes', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('parked_reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('credential_id', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.create_index('ix_issuances_learner', ['learner_id'], unique=False)
        batch_op.create_index('ix_issuances_site_course', ['site_id', 'course_id'], unique=False)
        batch_op.create_index('ix_issuances_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('nonces',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'nonce')
    )
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nonces_expires_at'), ['expires_at'], unique=False)

    op.create_table('credentials',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('issuance_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=255), nullable=False),
    sa.Column('course_id', sa.BigInteger(), nullable=False),
    sa.Column('learner_id', sa.String(length=64), nullable=False),
    sa.Column('learner_email', sa.String(length=320), nullable=False),
    sa.Column('learner_name', sa.String(length=512), nullable=False),
    sa.Column('learner_lang', sa.String(length=8), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('issuer_name', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('codec', sa.String(length=32), nullable=False),
    sa.Column('dictionary_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('supersedes', sa.String(length=64), nullable=True),
    sa.Column('superseded_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['dictionary_id'], ['compression_dictionaries.id'], ),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuances.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuance_id')
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index('ix_credentials_course', ['site_id', 'course_id'], unique=False)
        batch_op.create_index('ix_credentials_issued_at', ['issued_at'], unique=False)
        batch_op.create_index('ix_credentials_learner', ['learner_id'], unique=False)
        batch_op.create_index('ix_credentials_status', ['status'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('credential_id', 'channel', 'kind', name='uq_delivery_per_channel')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_state_next', ['state', 'next_attempt_at'], unique=False)

    op.create_table('revocations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revoked_by', sa.String(length=255), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('credential_id')
    )



def downgrade() -> None:

    op.drop_table('revocations')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_next')

    op.drop_table('deliveries')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_credentials_status')
        batch_op.drop_index('ix_credentials_learner')
        batch_op.drop_index('ix_credentials_issued_at')
        batch_op.drop_index('ix_credentials_course')

    op.drop_table('credentials')
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nonces_expires_at'))

    op.drop_table('nonces')
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.drop_index('ix_issuances_status_next')
        batch_op.drop_index('ix_issuances_site_course')
        batch_op.drop_index('ix_issuances_learner')

    op.drop_table('issuances')
    op.drop_table('course_specifications')
    op.drop_table('compression_dictionaries')
    op.drop_table('audit_trail')


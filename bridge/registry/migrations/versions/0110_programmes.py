"""Programmes (stacked credentials): their descriptions, the courses each is made of, the learners to
look at again, and the programme credentials awarded (one per programme and learner) with their review
flags (bridge/worker/programmes.py).

Revision ID: 0110_programmes
Revises: 0100_wallet_offers
"""
from alembic import op
import sqlalchemy as sa


revision = '0110_programmes'
down_revision = '0100_wallet_offers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'programmes',
        sa.Column('site_id', sa.String(length=255), nullable=False),
        sa.Column('programme_id', sa.String(length=64), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('valid', sa.Boolean(), nullable=False),
        sa.Column('problems', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('site_id', 'programme_id'),
    )
    op.create_table(
        'programme_parts',
        sa.Column('site_id', sa.String(length=255), nullable=False),
        sa.Column('programme_id', sa.String(length=64), nullable=False),
        sa.Column('course_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('site_id', 'programme_id', 'course_id'),
    )
    with op.batch_alter_table('programme_parts') as batch:
        batch.create_index('ix_programme_parts_course', ['site_id', 'course_id'], unique=False)
    op.create_table(
        'programme_checks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('site_id', sa.String(length=255), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'programme_awards',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('site_id', sa.String(length=255), nullable=False),
        sa.Column('programme_id', sa.String(length=64), nullable=False),
        sa.Column('learner_id', sa.String(length=64), nullable=False),
        sa.Column('issuance_id', sa.String(length=36), nullable=False),
        sa.Column('parts', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('review_reasons', sa.Text(), nullable=True),
        sa.Column('reviewed_by', sa.String(length=255), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['issuance_id'], ['issuances.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuance_id'),
        sa.UniqueConstraint('site_id', 'programme_id', 'learner_id', name='uq_programme_award'),
    )
    with op.batch_alter_table('programme_awards') as batch:
        batch.create_index('ix_programme_awards_learner', ['site_id', 'learner_id'], unique=False)
        batch.create_index('ix_programme_awards_status', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('programme_awards')
    op.drop_table('programme_checks')
    op.drop_table('programme_parts')
    op.drop_table('programmes')

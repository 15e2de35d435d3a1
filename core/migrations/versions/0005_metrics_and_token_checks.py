"""metrics and token checks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metrics_schedule',
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('next_fetch_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_fetched_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetches', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('claimed_until', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gone_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_metrics_schedule_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_metrics_schedule'))
    )
    with op.batch_alter_table('metrics_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metrics_schedule_next_fetch_at'), ['next_fetch_at'], unique=False)

    op.create_table('post_metrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('fetched_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('reposts', sa.Integer(), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.Column('quotes', sa.Integer(), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_post_metrics_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_metrics'))
    )
    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_post_metrics_delivery_fetched', ['delivery_id', 'fetched_at'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_checked_at', core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('credentials_checked_at')

    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_post_metrics_delivery_fetched')

    op.drop_table('post_metrics')
    with op.batch_alter_table('metrics_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metrics_schedule_next_fetch_at'))

    op.drop_table('metrics_schedule')

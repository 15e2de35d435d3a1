"""publishing engine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import core.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_status', sa.Enum('ok', 'expiring', 'broken', name='credential_status', native_enum=False, length=32), nullable=False, server_default='ok'))
        batch_op.add_column(sa.Column('credentials_problem', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('credentials_expire_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rate_limited_until', core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.alter_column('credentials_status', server_default=None)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_attempt_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_deliveries_state_due'))
        batch_op.create_index('ix_deliveries_state_next_attempt', ['state', 'next_attempt_at'], unique=False)
    op.execute("UPDATE deliveries SET next_attempt_at = due_at")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('next_attempt_at', existing_type=core.db.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_next_attempt')
        batch_op.create_index(batch_op.f('ix_deliveries_state_due'), ['state', 'due_at'], unique=False)
        batch_op.drop_column('first_attempt_at')
        batch_op.drop_column('next_attempt_at')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('rate_limited_until')
        batch_op.drop_column('credentials_expire_at')
        batch_op.drop_column('credentials_problem')
        batch_op.drop_column('credentials_status')

"""accounts an organisation can run: revocable sessions, password resets, account history

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

users.session_version is part of every session's id, so raising it ends all of a user's sessions
(logout, new password, deactivation); users.must_change_password sends a person to the password
form first (the first-start admin, or when an administrator asks). password_resets keeps e-mailed
reset links as SHA-256 hashes, single-use and expiring; user_events is who changed an account,
what and when. login_throttles is emptied: its keys now say whether they count an address
or a client.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False,
                                     server_default="1"))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_password_resets_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"],
                    unique=False)
    op.create_table(
        "user_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", core.db.UTCDateTime(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_user_events_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_user_events_actor_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_events")),
    )
    op.create_index(op.f("ix_user_events_user_id"), "user_events", ["user_id"], unique=False)
    # Throttle rows are now keyed `account:<e-mail>` / `client:<address>`; the old ones (the bare
    # address) would never be read again, and counting starts afresh anyway.
    op.execute("DELETE FROM login_throttles")


def downgrade() -> None:
    op.drop_index(op.f("ix_user_events_user_id"), table_name="user_events")
    op.drop_table("user_events")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("session_version")

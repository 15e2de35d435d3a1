"""events announced by posts, their templates and the members' calendar links

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03

Issue 13, point 5: event_announcements links each announcing post to its event (week, day,
morning, cancellation); event_templates keeps the leads' own texts per language; and
event_feed_tokens the digest of each person's secret link to the members' calendar.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

WHICH = ("week", "day", "morning", "cancellation")


def upgrade() -> None:
    op.create_table(
        "event_announcements",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("which", sa.Enum(*WHICH, name="event_announcement", native_enum=False,
                                   length=16), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_event_announcements_post_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_announcements_event_id_events"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_event_announcements")),
    )
    op.create_index(op.f("ix_event_announcements_event_id"), "event_announcements",
                    ["event_id"])
    op.create_table(
        "event_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("which", sa.Enum(*WHICH, name="event_announcement", native_enum=False,
                                   length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_event_templates_updated_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_templates")),
        sa.UniqueConstraint("language", "which", name=op.f("uq_event_templates_language")),
    )
    op.create_table(
        "event_feed_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_event_feed_tokens_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_event_feed_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_event_feed_tokens_digest")),
    )


def downgrade() -> None:
    op.drop_table("event_feed_tokens")
    op.drop_table("event_templates")
    op.drop_table("event_announcements")

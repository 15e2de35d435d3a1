"""campaigns: messages, targets, and the posts that carry them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

Issue 13: a campaign lead's campaign with its messages (per-network text, hashtags, link,
pictures with alt text, UTM parameters) and target associations; campaign_asks the associations asked to carry it (and their refusals);
campaign_posts links a post (made by the roll-out, or
written outside it) to the campaign, so coverage is read from the posts' own deliveries.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("deadline", core.db.UTCDateTime(), nullable=False),
        sa.Column("target_kind", sa.Enum("all", "district", "associations",
                                         name="campaign_target_kind", native_enum=False,
                                         length=32), nullable=False),
        sa.Column("utm_source_x", sa.String(length=100), nullable=False),
        sa.Column("utm_source_facebook", sa.String(length=100), nullable=False),
        sa.Column("utm_medium", sa.String(length=100), nullable=False),
        sa.Column("utm_campaign", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_campaigns_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("slug", name=op.f("uq_campaigns_slug")),
    )
    op.create_table(
        "campaign_targets",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_targets_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_campaign_targets_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("campaign_id", "organisation_id",
                                name=op.f("pk_campaign_targets")),
    )
    op.create_index(op.f("ix_campaign_targets_organisation_id"), "campaign_targets",
                    ["organisation_id"], unique=False)
    op.create_table(
        "campaign_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_x", sa.Text(), nullable=False),
        sa.Column("text_facebook", sa.Text(), nullable=False),
        sa.Column("hashtags", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_messages_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_messages")),
    )
    op.create_index(op.f("ix_campaign_messages_campaign_id"), "campaign_messages",
                    ["campaign_id"], unique=False)
    op.create_table(
        "campaign_message_images",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["campaign_messages.id"],
            name=op.f("fk_campaign_message_images_message_id_campaign_messages"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["media_id"], ["media_files.id"],
                                name=op.f("fk_campaign_message_images_media_id_media_files")),
        sa.PrimaryKeyConstraint("message_id", "position",
                                name=op.f("pk_campaign_message_images")),
    )
    op.create_index(op.f("ix_campaign_message_images_media_id"), "campaign_message_images",
                    ["media_id"], unique=False)
    op.create_table(
        "campaign_posts",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_campaign_posts_post_id_posts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_posts_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["campaign_messages.id"],
                                name=op.f("fk_campaign_posts_message_id_campaign_messages"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["linked_by_id"], ["users.id"],
                                name=op.f("fk_campaign_posts_linked_by_id_users")),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_campaign_posts")),
    )
    op.create_index("ix_campaign_posts_campaign_id", "campaign_posts",
                    ["campaign_id", "post_id"], unique=False)
    op.create_table(
        "campaign_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("declined_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("declined_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_asks_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["campaign_messages.id"],
                                name=op.f("fk_campaign_asks_message_id_campaign_messages"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_campaign_asks_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["asked_by_id"], ["users.id"],
                                name=op.f("fk_campaign_asks_asked_by_id_users")),
        sa.ForeignKeyConstraint(["declined_by_id"], ["users.id"],
                                name=op.f("fk_campaign_asks_declined_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_asks")),
        sa.UniqueConstraint("campaign_id", "organisation_id",
                            name=op.f("uq_campaign_asks_campaign_id")),
    )
    op.create_index(op.f("ix_campaign_asks_organisation_id"), "campaign_asks",
                    ["organisation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_asks_organisation_id"), table_name="campaign_asks")
    op.drop_table("campaign_asks")
    op.drop_index("ix_campaign_posts_campaign_id", table_name="campaign_posts")
    op.drop_table("campaign_posts")
    op.drop_index(op.f("ix_campaign_message_images_media_id"),
                  table_name="campaign_message_images")
    op.drop_table("campaign_message_images")
    op.drop_index(op.f("ix_campaign_messages_campaign_id"), table_name="campaign_messages")
    op.drop_table("campaign_messages")
    op.drop_index(op.f("ix_campaign_targets_organisation_id"), table_name="campaign_targets")
    op.drop_table("campaign_targets")
    op.drop_table("campaigns")

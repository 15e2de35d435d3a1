"""our posts filed under issues, and the index the report reads publications by

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

The board's report puts our own publishing beside the coverage, per issue (reports.publishing):
post_watchlists holds which issues' queries match a post (reports.post_issues), and
post_classifications with which queries each post was last read. Publications are read by when
they went out: ix_deliveries_published_at.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_watchlists",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_post_watchlists_post_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["watchlist_id"], ["watchlists.id"],
                                name=op.f("fk_post_watchlists_watchlist_id_watchlists"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "watchlist_id", name=op.f("pk_post_watchlists")),
    )
    op.create_index(op.f("ix_post_watchlists_watchlist_id"), "post_watchlists",
                    ["watchlist_id"], unique=False)
    op.create_table(
        "post_classifications",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("classified_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"],
                                name=op.f("fk_post_classifications_post_id_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_classifications")),
    )
    op.create_index("ix_deliveries_published_at", "deliveries", ["published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_published_at", table_name="deliveries")
    op.drop_table("post_classifications")
    op.drop_index(op.f("ix_post_watchlists_watchlist_id"), table_name="post_watchlists")
    op.drop_table("post_watchlists")

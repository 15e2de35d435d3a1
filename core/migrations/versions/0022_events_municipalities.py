"""the county's municipalities and the events campaign leads announce

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

Issue 13: municipalities (Värmland's 16 kommuner, seeded here, each with the association working
there if any) and events (meetings, lectures, courses, the election conference) with their
organiser, place and municipality, in UTC.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# SCB's codes and names of Värmlands län's municipalities.
VARMLAND = (
    ("1715", "Kil"), ("1730", "Eda"), ("1737", "Torsby"), ("1760", "Storfors"),
    ("1761", "Hammarö"), ("1762", "Munkfors"), ("1763", "Forshaga"), ("1764", "Grums"),
    ("1765", "Årjäng"), ("1766", "Sunne"), ("1780", "Karlstad"), ("1781", "Kristinehamn"),
    ("1782", "Filipstad"), ("1783", "Hagfors"), ("1784", "Arvika"), ("1785", "Säffle"),
)


def upgrade() -> None:
    municipalities = op.create_table(
        "municipalities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_municipalities_organisation_id_organisations"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipalities")),
        sa.UniqueConstraint("code", name=op.f("uq_municipalities_code")),
        sa.UniqueConstraint("name", name=op.f("uq_municipalities_name")),
    )
    op.create_index(op.f("ix_municipalities_organisation_id"), "municipalities",
                    ["organisation_id"])
    op.bulk_insert(municipalities, [{"code": code, "name": name} for code, name in VARMLAND])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.Enum("meeting", "lecture", "course", "election_conference",
                                  "campaign", "other", name="event_kind", native_enum=False,
                                  length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("partners", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["municipality_id"], ["municipalities.id"],
                                name=op.f("fk_events_municipality_id_municipalities")),
        sa.ForeignKeyConstraint(["organiser_id"], ["organisations.id"],
                                name=op.f("fk_events_organiser_id_organisations")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_events_campaign_id_campaigns"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["cancelled_by_id"], ["users.id"],
                                name=op.f("fk_events_cancelled_by_id_users")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_events_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at", "id"])
    op.create_index(op.f("ix_events_municipality_id"), "events", ["municipality_id"])
    op.create_index(op.f("ix_events_organiser_id"), "events", ["organiser_id"])
    op.create_index(op.f("ix_events_campaign_id"), "events", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("municipalities")

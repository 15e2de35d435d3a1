"""the board's report by e-mail: when, to whom, and each month's mailings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

reports.mailing sends last month's report to the board on the first weekday of the month (or
the day an administrator chose). report_mail_settings holds that day and hour (one row, the
default written here); report_mail_recipients only the administrators' departures from the
default (the board); report_mail_runs one row per month planned (its key is what makes a month
planned once), with the figures as sent; report_mail_papers its PDF per language; and
report_mailings one row per month and recipient, claimed with a lease like the e-mail outbox.
"""
from alembic import op
import sqlalchemy as sa

import core.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = op.create_table(
        "report_mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_report_mail_settings_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mail_settings")),
    )
    op.bulk_insert(settings, [{"id": 1, "day": None, "hour": 7}])
    op.create_table(
        "report_mail_recipients",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("receives", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_report_mail_recipients_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_report_mail_recipients")),
    )
    op.create_table(
        "report_mail_runs",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("planned_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("counted_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_report_mail_runs")),
    )
    op.create_table(
        "report_mail_papers",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("rendered_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["period"], ["report_mail_runs.period"], ondelete="CASCADE",
                                name=op.f("fk_report_mail_papers_period_report_mail_runs")),
        sa.PrimaryKeyConstraint("period", "language", name=op.f("pk_report_mail_papers")),
    )
    op.create_table(
        "report_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(), nullable=False),
        sa.Column("due_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(), nullable=True),
        sa.Column("sent_to", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["period"], ["report_mail_runs.period"], ondelete="CASCADE",
                                name=op.f("fk_report_mailings_period_report_mail_runs")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_report_mailings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_mailings")),
        sa.UniqueConstraint("period", "user_id", name=op.f("uq_report_mailings_period")),
    )
    op.create_index(op.f("ix_report_mailings_due_at"), "report_mailings", ["due_at"])
    op.create_index(op.f("ix_report_mailings_user_id"), "report_mailings", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_mailings_user_id"), table_name="report_mailings")
    op.drop_index(op.f("ix_report_mailings_due_at"), table_name="report_mailings")
    op.drop_table("report_mailings")
    op.drop_table("report_mail_papers")
    op.drop_table("report_mail_runs")
    op.drop_table("report_mail_recipients")
    op.drop_table("report_mail_settings")

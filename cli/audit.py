"""`megafon audit`: the audit log, filtered, as tab-separated lines or CSV (read-only: nothing
in Megafon changes or deletes an entry)."""

from __future__ import annotations

import csv
import sys
from datetime import datetime, timedelta

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli.acting import settings, user_by_email
from core import audit
from core.clock import local_to_utc
from core.db import Database
from core.users import Organisation, OrganisationKind, Role, User


def _day(text: str | None, after: bool = False) -> datetime | None:
    """The start (or, `after`, the end) of a Stockholm day given as YYYY-MM-DD, in UTC."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return local_to_utc(day + timedelta(days=1) if after else day)


def _reader(session: Session) -> User:
    """The district's first active administrator: the one kind of user who reads the log."""
    found = session.scalar(
        select(User).join(User.organisation).where(
            User.role == Role.ADMIN, User.active,
            Organisation.kind == OrganisationKind.DISTRICT).order_by(User.id))
    if found is None:
        raise click.ClickException("No active administrator of the district: create one with "
                                   "`megafon create-user --role admin` first.")
    return found


@click.command("audit")
@click.option("--actor", "actor_email", default="", help="Only what this user (e-mail) did")
@click.option("--action", default="", help="create, update, cancel, delete, …")
@click.option("--type", "object_type", default="", help="post, account, user, source, …")
@click.option("--organisation", default="", help="The organisation's name")
@click.option("--since", default="", help="From this Stockholm day (YYYY-MM-DD)")
@click.option("--until", default="", help="To this Stockholm day, inclusive (YYYY-MM-DD)")
@click.option("--limit", default=100, show_default=True, help="At most this many (0: all)")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header instead of tab lines")
def audit_command(actor_email: str, action: str, object_type: str, organisation: str,
                  since: str, until: str, limit: int, as_csv: bool) -> None:
    """The audit log, newest first: who changed what, when."""
    database = Database(settings().database_url)
    try:
        with database.session() as session:
            actor_id = user_by_email(session, actor_email).id if actor_email else None
            organisation_id = None
            if organisation:
                organisation_id = session.scalar(select(Organisation.id).where(
                    Organisation.name == organisation))
                if organisation_id is None:
                    raise click.ClickException(f"No organisation named {organisation!r}.")
            wanted = audit.AuditFilter(actor_id=actor_id, action=action.strip(),
                                       object_type=object_type.strip(),
                                       organisation_id=organisation_id, since=_day(since),
                                       until=_day(until, after=True))
            rows = [audit.as_row(entry) for entry in audit.entries(
                session, _reader(session), wanted, limit=limit or None)]
    finally:
        database.dispose()
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(audit.COLUMNS)
        writer.writerows(rows)
    else:
        for row in rows:
            click.echo("\t".join(str(value) for value in row))

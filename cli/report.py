"""`megafon report`: the board's report from the command line, as a file.

    megafon report --period 2014-08 --format xlsx --out rapport-2014-08.xlsx
    megafon report --period 2014-Q3 --format csv --table issues --out fragor.csv
    megafon report --period last-month --format json --out -
    megafon report --period 2014-08 --format pdf --language en --out board-2014-08.pdf

The period is written as on the page: a month (2014-08), a quarter (2014-Q3), a range
(2014-08-01..2014-08-31) or a name (last-month, this-week, …; the default is last month).
The figures are those of the page (the same snapshot while it is young). The report is made for
`--as` (an e-mail address), by default the first active administrator. A period or user that
cannot be used ends with "error: …" on stderr and exit code 2; nothing is written.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import select

from core.auth import NotAllowed
from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.settings import Settings, SettingsError
from core.users import Role, User
from reports import export, snapshots, tables
from reports.period import PeriodError, parse

FORMATS = ("pdf", "xlsx", "csv", "json")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.command("report")
@click.option("--period", default="", help="2014-08, 2014-Q3, 2014-08-01..2014-08-31 or a "
              "name such as last-month (the default).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx",
              show_default=True)
@click.option("--table", type=click.Choice(tables.TABLES), default="issues", show_default=True,
              help="With --format csv: which table.")
@click.option("--out", "out", required=True, help="The file to write; - for standard output.")
@click.option("--as", "as_email", default="", help="Whose report (default: the first admin).")
@click.option("--language", type=click.Choice(["sv", "en"]), default=None,
              help="Of the PDF (default: MEGAFON_DEFAULT_LOCALE).")
def report(period: str, fmt: str, table: str, out: str, as_email: str,
           language: str | None) -> None:
    """Write the board's report of a period to a file."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))
    try:
        chosen = parse(period or None, utcnow().astimezone(STOCKHOLM).date())
    except PeriodError as exc:
        fail(str(exc))
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            user = _user(session, as_email)
            try:
                found, counted = snapshots.cached_report(session, user, chosen,
                                                         own_party=settings.own_party)
            except NotAllowed as exc:
                fail(str(exc))
            organisation = user.organisation.name if user.organisation else "Megafon"
            if fmt == "pdf":
                body: bytes = _paper(settings, found, counted, organisation,
                                     language or settings.default_locale)
            elif fmt == "xlsx":
                body = export.xlsx(found, organisation, counted)
            elif fmt == "csv":
                body = export.csv_table(found, table).encode()
            else:
                body = export.json_report(found, counted).encode()
    finally:
        database.dispose()
    if out == "-":
        sys.stdout.buffer.write(body)
        return
    try:
        with open(out, "wb") as handle:
            handle.write(body)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    click.echo(f"{chosen.first.isoformat()} – {chosen.last.isoformat()}: {found.total} "
               f"mentions → {out}", err=True)


def _paper(settings: Settings, found: object, counted: object, organisation: str,
           language: str) -> bytes:
    """The PDF is the web app's board paper (its template, charts and translations)."""
    from web.reports import paper_maker

    return paper_maker(settings)(found, counted, organisation, language)  # type: ignore[arg-type]


def _user(session, email: str) -> User:  # noqa: ANN001 - a Session
    query = select(User).where(User.active.is_(True))
    if email:
        found = session.scalar(query.where(User.email == email.strip().lower()))
        if found is None:
            fail(f"no active user {email}")
        return found
    found = session.scalar(query.where(User.role == Role.ADMIN).order_by(User.id))
    if found is None:
        fail("no active administrator: give --as EMAIL")
    return found

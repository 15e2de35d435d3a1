"""Moving data in and out from a shell: watchlists and sources as JSON or CSV (export, and import
that creates or updates by name, all or nothing), and posts and mentions exported for
spreadsheets and archives. Everything goes through the monitor's own services, so an imported
query or address meets the same checks as one typed on the pages."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TextIO

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cli.acting import administrator, settings
from core.db import Database
from core.i18n import UserError, ValidationErrors
from monitor import admin
from monitor.models import Mention, Source, Watchlist
from publisher.models import Post

WATCHLIST_FIELDS = ("name", "query", "priority", "active")
SOURCE_FIELDS = ("name", "kind", "outlet", "url", "interval_minutes", "query", "account")




def _write(rows: Iterable[dict[str, Any]], fields: tuple[str, ...], fmt: str,
           out: TextIO) -> int:
    count = 0
    if fmt == "json":
        found = list(rows)
        json.dump(found, out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
        return len(found)
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count


def _open_out(path: Path | None) -> AbstractContextManager[TextIO]:
    """The file to write, or standard output (left open)."""
    if path is None:
        return nullcontext(sys.stdout)
    return path.open("w", encoding="utf-8", newline="")


def _read(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a JSON list of objects or a CSV with a header, told apart by the content; each
    must name the `required` columns."""
    rows = _rows(path)
    if not rows:
        raise click.ClickException(f"{path} holds no rows.")
    missing = [name for name in required if not all(name in row for row in rows)]
    if missing:
        raise click.ClickException(f"{path} lacks the column(s) {', '.join(missing)} "
                                   f"(expected: {', '.join(required)}, …).")
    return rows


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Cannot read {path}: {exc}") from None
    if raw.lstrip().startswith("["):
        try:
            rows = json.loads(raw)
        except ValueError as exc:
            raise click.ClickException(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise click.ClickException(f"{path} must be a JSON list of objects.")
        return rows
    return list(csv.DictReader(io.StringIO(raw)))


def _flag(value: object) -> bool:
    return str(value).strip().lower() not in {"0", "false", "no", "nej", "off", ""}


def _refuse(problems: list[str]) -> None:
    raise click.ClickException("Nothing was imported:\n  " + "\n  ".join(problems))


def _explain(row: int, exc: ValidationErrors | UserError) -> list[str]:
    errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return [f"row {row}: {error.field + ': ' if error.field else ''}{error}" for error in errors]


@click.group()
def watchlists() -> None:
    """Watchlists (the issues watched): export, import."""


@watchlists.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_watchlists(fmt: str, out: Path | None) -> None:
    """Every watchlist: name, query, priority, active."""
    database = Database(settings().database_url)
    try:
        with database.session() as session, _open_out(out) as stream:
            count = _write(({"name": w.name, "query": w.query, "priority": w.priority.value,
                             "active": w.active} for w in admin.list_watchlists(session)),
                           WATCHLIST_FIELDS, fmt, stream)
    finally:
        database.dispose()
    click.echo(f"{count} watchlists.", err=True)


def _import(path: Path, required: tuple[str, ...], model: Any,
            read_row: Callable[[dict[str, Any]], Any], create: Callable[..., Any],
            update: Callable[..., Any]) -> int:
    """Create or update by name every row of the file through the monitor's services, in one
    transaction: a single refused row and nothing is kept, every problem named by its row."""
    rows = _read(path, required)
    database = Database(settings().database_url)
    problems: list[str] = []
    try:
        with database.session() as session:
            actor = administrator(session)
            existing = {found.name.casefold(): found.id for found in
                        session.scalars(select(model))}
            for number, row in enumerate(rows, start=1):
                try:
                    data = read_row(row)
                    key = data.name.strip().casefold()
                    if key in existing:
                        update(session, actor, existing[key], data)
                    else:
                        existing[key] = create(session, actor, data).id
                except (ValidationErrors, UserError) as exc:
                    problems += _explain(number, exc)
            if problems:
                session.rollback()
                _refuse(problems)
    finally:
        database.dispose()
    return len(rows)


def _watchlist_input(row: dict[str, Any]) -> admin.WatchlistInput:
    return admin.WatchlistInput(
        name=str(row.get("name") or ""), query=str(row.get("query") or ""),
        priority=str(row.get("priority") or "normal"), active=_flag(row.get("active", True)))


@watchlists.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_watchlists(path: Path) -> None:
    """Create or update (by name) the watchlists in a JSON or CSV file; all or nothing."""
    count = _import(path, ("name", "query"), Watchlist, _watchlist_input,
                    admin.create_watchlist, admin.update_watchlist)
    click.echo(f"{count} watchlists imported.", err=True)


@click.group()
def sources() -> None:
    """Sources (feeds, pages, X searches, Page comments, clippings): export, import."""


def _source_row(source: Source) -> dict[str, Any]:
    config = admin.source_config(source)
    return {"name": source.name, "kind": source.kind.value, "outlet": source.outlet,
            "url": source.url, "interval_minutes": source.interval_seconds // 60,
            "query": config.get("query"), "account": config.get("account")}


@sources.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_sources(fmt: str, out: Path | None) -> None:
    """Every source: name, kind, outlet, address, interval, query, account."""
    database = Database(settings().database_url)
    try:
        with database.session() as session, _open_out(out) as stream:
            count = _write((_source_row(s) for s in admin.list_sources(session,
                                                                       administrator(session))),
                           SOURCE_FIELDS, fmt, stream)
    finally:
        database.dispose()
    click.echo(f"{count} sources.", err=True)


def _source_input(row: dict[str, Any]) -> admin.SourceInput:
    try:
        minutes = int(row.get("interval_minutes") or 5)
    except (TypeError, ValueError):
        raise UserError("not a whole number", field="interval_minutes") from None
    return admin.SourceInput(
        name=str(row.get("name") or ""), kind=str(row.get("kind") or ""),
        outlet=str(row.get("outlet") or ""), url=row.get("url") or None,
        interval_minutes=minutes, query=row.get("query") or None,
        account_id=str(row["account"]) if row.get("account") else None)


@sources.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_sources(path: Path) -> None:
    """Create or update (by name) the sources in a JSON or CSV file; all or nothing."""
    count = _import(path, ("name", "kind"), Source, _source_input, admin.create_source,
                    admin.update_source)
    click.echo(f"{count} sources imported.", err=True)


POST_FIELDS = ("id", "created_at", "scheduled_at", "author", "text", "link", "deliveries")
MENTION_FIELDS = ("id", "time", "first_seen_at", "outlet", "kind", "title", "url", "issues",
                  "parties", "tone", "triage", "own_account_id")


def _posts(session: Any) -> Iterator[dict[str, Any]]:
    for post in session.scalars(select(Post).order_by(Post.id)
                                .options(selectinload(Post.deliveries)).execution_options(
                                    yield_per=500)):
        yield {"id": post.id, "created_at": post.created_at.isoformat(),
               "scheduled_at": post.scheduled_at.isoformat(), "author": post.author.name,
               "text": post.text, "link": post.link,
               "deliveries": "; ".join(
                   f"{d.account.name}: {d.state.value}"
                   + (f" {d.published_at.isoformat()} {d.external_url or ''}".rstrip()
                      if d.published_at else "") for d in post.deliveries)}


def _mentions(session: Any) -> Iterator[dict[str, Any]]:
    names = dict(session.execute(select(Watchlist.id, Watchlist.name)).all())
    for m in session.scalars(select(Mention).order_by(Mention.sort_at, Mention.id)
                             .options(selectinload(Mention.watchlists),
                                      selectinload(Mention.party_rows))
                             .execution_options(yield_per=1000)):
        yield {"id": m.id, "time": m.sort_at.isoformat(),
               "first_seen_at": m.first_seen_at.isoformat(), "outlet": m.outlet,
               "kind": m.source_kind.value, "title": m.title, "url": m.url,
               "issues": "; ".join(names.get(w.watchlist_id, "?") for w in m.watchlists),
               "parties": " ".join(sorted(p.party for p in m.party_rows)), "tone": m.tone,
               "triage": m.triage.value, "own_account_id": m.own_account_id}


@click.command("export")
@click.argument("what", type=click.Choice(["posts", "mentions"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export(what: str, fmt: str, out: Path | None) -> None:
    """Every post (with where and when it went out) or every mention, as CSV or JSON."""
    database = Database(settings().database_url)
    try:
        with database.session() as session, _open_out(out) as stream:
            rows, fields = ((_posts(session), POST_FIELDS) if what == "posts"
                            else (_mentions(session), MENTION_FIELDS))
            count = _write(rows, fields, fmt, stream)
    finally:
        database.dispose()
    click.echo(f"{count} {what}.", err=True)

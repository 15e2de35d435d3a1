"""Watchlists and sources exported and imported as JSON and CSV (all or nothing, the pages'
checks), and posts and mentions exported for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from core.users import Role
from monitor.models import Mention, Source, SourceKind, Watchlist
from publisher.dispatch import Dispatcher
from publisher.models import Platform
from tests.factories import queue_post


def _run(services, *args: str):
    env = {"MEGAFON_DATABASE_URL": services.settings.database_url,
           "MEGAFON_INSTANCE_PATH": str(services.settings.instance_path),
           "MEGAFON_SECRET_KEY": services.settings.secret_key}
    return CliRunner().invoke(main, list(args), env=env)


def test_watchlists_go_out_and_come_back_in_both_formats(services, make_user, tmp_path):
    make_user(Role.ADMIN)
    with services.db.session() as session:
        session.add(Watchlist(name="Kollektivtrafik", query='buss* OR "kollektivtrafik"'))
    for fmt in ("json", "csv"):
        out = tmp_path / f"watchlists.{fmt}"
        made = _run(services, "watchlists", "export", "--format", fmt, "--out", str(out))
        assert made.exit_code == 0, made.output
        assert "Kollektivtrafik" in out.read_text(encoding="utf-8")
    rows = [{"name": "Kollektivtrafik", "query": "buss*", "priority": "high", "active": "1"},
            {"name": "Vården", "query": "vårdcentral* OR akuten", "priority": "normal",
             "active": "1"}]
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = _run(services, "watchlists", "import", str(path))
    assert done.exit_code == 0, done.output
    with services.db.session() as session:
        found = {w.name: (w.query, w.priority.value) for w in session.scalars(select(Watchlist))}
    assert found == {"Kollektivtrafik": ("buss*", "high"),
                     "Vården": ("vårdcentral* OR akuten", "normal")}


def test_an_import_with_one_bad_row_imports_nothing_and_names_the_row(services, make_user,
                                                                     tmp_path):
    make_user(Role.ADMIN)
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"name": "Skolan", "query": "skola*"},
                                {"name": "Trasig", "query": '"inte stängd'},
                                {"name": "", "query": "x"}]), encoding="utf-8")
    refused = _run(services, "watchlists", "import", str(path))
    assert refused.exit_code != 0
    assert "row 2" in refused.output and "row 3" in refused.output
    with services.db.session() as session:
        assert session.scalars(select(Watchlist)).all() == []
    path.write_text("not json, not a csv with the right header", encoding="utf-8")
    assert _run(services, "watchlists", "import", str(path)).exit_code != 0


def test_sources_go_out_and_come_back(services, make_user, tmp_path):
    make_user(Role.ADMIN)
    path = tmp_path / "sources.json"
    path.write_text(json.dumps([
        {"name": "NWT nyheter", "kind": "feed", "outlet": "NWT",
         "url": "https://www.nwt.se/rss", "interval_minutes": 10},
        {"name": "Bad", "kind": "feed", "outlet": "X", "url": "javascript:alert(1)"}]),
        encoding="utf-8")
    refused = _run(services, "sources", "import", str(path))
    assert refused.exit_code != 0 and "row 2" in refused.output
    path.write_text(json.dumps([{"name": "NWT nyheter", "kind": "feed", "outlet": "NWT",
                                 "url": "https://www.nwt.se/rss", "interval_minutes": 10}]),
                    encoding="utf-8")
    assert _run(services, "sources", "import", str(path)).exit_code == 0
    exported = _run(services, "sources", "export")
    assert exported.exit_code == 0, exported.output
    [row] = json.loads(exported.stdout)
    assert (row["name"], row["url"], row["interval_minutes"]) == (
        "NWT nyheter", "https://www.nwt.se/rss", 10)
    with services.db.session() as session:
        assert session.scalar(select(Source.interval_seconds)) == 600


def test_posts_and_mentions_are_exported_with_where_they_went(services, make_user,
                                                             make_account):
    make_user(Role.ADMIN)
    x, _ = make_account(Platform.X, name="VP Värmland")
    queue_post(services.db, make_user(Role.COMMS), [x], text="Exporterat inlägg")
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    with services.db.session() as session:
        session.add(Mention(title="Bussarna i Arvika", outlet="NWT", text="",
                            source_kind=SourceKind.FEED, hits="[]"))
    posts = _run(services, "export", "posts")
    assert posts.exit_code == 0, posts.output
    [row] = list(csv.DictReader(io.StringIO(posts.stdout)))
    assert row["text"] == "Exporterat inlägg"
    assert row["deliveries"].startswith("VP Värmland: published")
    mentions = json.loads(_run(services, "export", "mentions", "--format", "json").stdout)
    assert [m["title"] for m in mentions] == ["Bussarna i Arvika"]

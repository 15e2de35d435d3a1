"""Migration 0015 gives mentions their author and our own account: X search mentions stored
before get their author's handle from the title ("@handle: …") and those of our X accounts'
handles, in any case, become ours; nothing else changes. On SQLite the full-text delete trigger
(0009) survives (plain ADD COLUMN, no table rebuild)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, create_engine, text

from core import migrate
from core.db import UTCDateTime

MOMENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_existing_x_mentions_of_our_handles_become_ours(any_empty_db_url: str):
    url = any_empty_db_url
    migrate.upgrade(url, "0013")
    engine = create_engine(url)
    now = bindparam("now", type_=UTCDateTime())
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (id, name, kind, created_at) "
                          "VALUES (1, 'Distriktet', 'district', :now)").bindparams(now),
                     {"now": MOMENT})
        conn.execute(text(
            "INSERT INTO accounts (id, platform, name, handle, external_id, organisation_id, "
            "credentials_sealed, active, credentials_status, created_at) VALUES "
            "(5, 'x', 'V Värmland', 'VPVarmland', '111', 1, '', true, 'ok', :now), "
            "(6, 'facebook', 'V Kil', '222', '222', 1, '', true, 'ok', :now)").bindparams(now),
            {"now": MOMENT})
        conn.execute(text(
            "INSERT INTO mentions (id, title, outlet, source_kind, text, first_seen_at, "
            "sort_at, hits, triage, updated_at) VALUES "
            "(1, '@vpvarmland: Vi står upp för akuten', 'X', 'x_search', '', :now, :now, "
            "'[]', 'new', :now), "
            "(2, '@pendlare: Akuten stänger', 'X', 'x_search', '', :now, :now, '[]', 'new', "
            ":now), "
            "(3, '@VPVarmland: citerad i en tidning', 'NWT', 'feed', '', :now, :now, '[]', "
            "'new', :now), "
            "(4, 'Ingen handle alls', 'X', 'x_search', '', :now, :now, '[]', 'new', :now)"
        ).bindparams(now), {"now": MOMENT})
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, author_platform, author_handle, own_account_id "
                                 "FROM mentions ORDER BY id")).all()
        triggers = conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all() \
            if engine.dialect.name == "sqlite" else ["mention_text_delete"]
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "x", "vpvarmland", 5),
        (2, "x", "pendlare", None),
        (3, None, None, None),
        (4, None, None, None),
    ]
    assert "mention_text_delete" in triggers

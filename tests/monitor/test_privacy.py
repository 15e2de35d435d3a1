"""Private persons' posts about a party are kept only as long as the setting says, and can be
found, exported and erased on request; the board's figures for a period never change when
their words go. Both databases, the full-text search included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.auth import NotAllowed, create_user
from core.db import Database
from core.users import Role
from monitor.mention_search import MentionFilter, search
from monitor.models import (
    Mention,
    MentionParty,
    MentionWatchlist,
    Sighting,
    SourceKind,
    Watchlist,
)
from monitor.privacy import PrivacyLog, erase_person, export_person, find_person, remove_expired
from reports.board import board_report
from reports.period import Period

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
SPRING = Period(date(2026, 3, 1), date(2026, 3, 31), "month")


@dataclass
class World:
    db: Database
    admin: object
    comms: object
    ids: dict[str, int]


def _mention(key: str, kind: SourceKind, at: datetime, title: str, text: str, *,
             handle: str | None = None, own: int | None = None, issue: int,
             parties: tuple[str, ...] = ("V",)) -> Mention:
    return Mention(
        title=title, text=text, url=f"https://x.example/{handle or 'nwt'}/status/{key}",
        outlet="X" if kind is SourceKind.X_SEARCH else "NWT", source_kind=kind,
        published_at=at, first_seen_at=at, hits='[{"term": "buss"}]', tone="negative",
        author_platform="x" if handle else None, author_handle=handle,
        author_id="4711" if handle else None, own_account_id=own,
        watchlists=[MentionWatchlist(watchlist_id=issue)],
        party_rows=[MentionParty(party=p) for p in parties],
        sightings=[Sighting(item_key=f"x:{key}", outlet="X", title=title,
                            url=f"https://x.example/status/{key}", seen_at=at)])


@pytest.fixture
def world(any_db_url: str) -> Iterator[World]:
    db = Database(any_db_url)
    old, young = datetime(2026, 3, 10, 9, tzinfo=UTC), datetime(2026, 6, 1, 9, tzinfo=UTC)
    with db.session() as session:
        admin = create_user(session, email="admin@example.org", name="Admin",
                            password="correct horse battery", role=Role.ADMIN)
        comms = create_user(session, email="komms@example.org", name="Komms",
                            password="correct horse battery", role=Role.COMMS)
        issue = Watchlist(name="Kollektivtrafik", query="buss*")
        session.add(issue)
        session.flush()
        mentions = {
            "old_tweet": _mention("1", SourceKind.X_SEARCH, old, "@kalle_k: Bussarna är sena",
                                  "Bussarna i Arvika är alltid sena, Vänsterpartiet har rätt",
                                  handle="kalle_k", issue=issue.id),
            "old_comment": _mention("2", SourceKind.FB_COMMENTS, old, "Åsa Berg: Håller med",
                                    "Håller med om bussarna, röstar V", issue=issue.id,
                                    parties=("V", "S")),
            "young_tweet": _mention("3", SourceKind.X_SEARCH, young, "@kalle_k: Igen!",
                                    "Bussarna igen", handle="kalle_k", issue=issue.id),
            "old_article": _mention("4", SourceKind.FEED, old, "NWT: Bussarna i Arvika",
                                    "Kalle Karlsson säger att bussarna är sena", issue=issue.id),
            "old_own": _mention("5", SourceKind.X_SEARCH, old, "@vansterpartiet: Bussar!",
                                "Fler bussar", handle="vansterpartiet", own=None,
                                issue=issue.id),
        }
        session.add_all(mentions.values())
        session.flush()
        ids = {key: m.id for key, m in mentions.items()}
    yield World(db, admin, comms, ids)
    db.dispose()


def _own(world: World) -> None:
    """The last one is our own account's post (its account row is not needed here)."""
    from publisher.models import Account, Platform

    with world.db.session() as session:
        account = Account(platform=Platform.X, name="V Värmland", handle="vansterpartiet",
                          external_id="4711", organisation_id=world.admin.organisation_id,
                          credentials_sealed="-")
        session.add(account)
        session.flush()
        session.get(Mention, world.ids["old_own"]).own_account_id = account.id


def test_retention_removes_old_private_words_and_keeps_every_figure(world: World):
    _own(world)
    with world.db.session() as session:
        before = board_report(session, world.admin, SPRING)
        assert remove_expired(session, 90, now=NOW) == 2
        assert remove_expired(session, 90, now=NOW) == 0  # done once
    with world.db.session() as session:
        got = {key: session.get(Mention, i) for key, i in world.ids.items()}
        for key in ("old_tweet", "old_comment"):
            m = got[key]
            assert (m.title, m.text, m.url, m.author_handle, m.author_id, m.signature) == (
                "", "", None, None, None, None), key
            assert m.personal_removed_at == NOW and m.hits == "[]"
            assert all(s.title == "" and s.url is None for s in m.sightings)
            # What the report counts stays.
            assert m.watchlists and m.party_rows and m.tone == "negative"
        assert got["young_tweet"].text == "Bussarna igen"  # 15 days old: kept
        assert got["old_article"].text.startswith("Kalle Karlsson")  # media: kept
        assert got["old_own"].text == "Fler bussar"  # ours: kept
        after = board_report(session, world.admin, SPRING)
        found = search(session, world.admin, MentionFilter(text="röstar"))
        assert found.items == []  # the full-text index forgot the words too
        [logged] = session.scalars(select(PrivacyLog)).all()
        assert (logged.action, logged.mentions, logged.actor_id) == ("retention", 2, None)
    figures = ("total", "previous_total", "series", "issues", "voice", "voice_series",
               "outlets", "tone_by_issue", "tone_series", "people")
    assert {f: getattr(after, f) for f in figures} == {f: getattr(before, f) for f in figures}
    assert [replace(s, title="", url=None) for s in after.stories] == [
        replace(s, title="", url=None) for s in before.stories]


def test_a_person_is_found_by_handle_and_by_name_exported_and_erased(world: World):
    with world.db.session() as session:
        by_handle = find_person(session, world.admin, "@Kalle_K")
        assert {m.id for m in by_handle.mentions} == {world.ids["old_tweet"],
                                                      world.ids["young_tweet"]}
        by_name = find_person(session, world.admin, "Åsa Berg")
        assert [m.id for m in by_name.mentions] == [world.ids["old_comment"]]
        exported = json.loads(export_person(session, world.admin, "@kalle_k"))
        assert {m["text"] for m in exported["mentions"]} == {
            "Bussarna i Arvika är alltid sena, Vänsterpartiet har rätt", "Bussarna igen"}
        assert erase_person(session, world.admin, "@kalle_k") == 2
    with world.db.session() as session:
        for key in ("old_tweet", "young_tweet"):
            mention = session.get(Mention, world.ids[key])
            assert mention.text == "" and mention.author_handle is None
        assert session.get(Mention, world.ids["old_article"]).text.startswith("Kalle")
        assert find_person(session, world.admin, "@kalle_k").mentions == []
        actions = [row.action for row in session.scalars(select(PrivacyLog)
                                                         .order_by(PrivacyLog.id))]
        assert actions == ["search", "search", "export", "erase", "search"]


@pytest.mark.parametrize("subject", ["", "@a", "x" * 300, "ab\x00c"])
def test_a_search_too_short_or_odd_is_refused_clearly(world: World, subject: str):
    from core.i18n import ValidationErrors

    with world.db.session() as session, pytest.raises(ValidationErrors):
        find_person(session, world.admin, subject)


def test_only_an_admin_may_look_export_or_erase(world: World):
    with world.db.session() as session:
        for act in (find_person, export_person, erase_person):
            with pytest.raises(NotAllowed):
                act(session, world.comms, "@kalle_k")

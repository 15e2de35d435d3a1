"""A report's snapshot: the same figures back from JSON, served while young, counted again when
old, and written by two workers at once without a conflict (both databases)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from monitor.models import Mention, SourceKind
from reports.board import board_report
from reports.snapshots import MAX_AGE, ReportSnapshot, cached_report, decode, encode
from tests.reports.test_board import MARCH, World, world  # noqa: F401 - the fixture

NOW = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)


def test_a_report_comes_back_from_json_unchanged(world: World):  # noqa: F811
    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    again, counted = decode(encode(report, NOW))
    assert again == report and counted == NOW


def test_a_young_snapshot_is_served_and_an_old_one_counted_again(world: World):  # noqa: F811
    with world.db.session() as session:
        first, counted = cached_report(session, world.user, MARCH, now=NOW)
    assert counted == NOW
    with world.db.session() as session:  # a late mention of March arrives
        at = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
        session.add(Mention(title="Sen nyhet", outlet="NWT", source_kind=SourceKind.FEED,
                            text="", published_at=at, first_seen_at=NOW, hits="[]",
                            updated_at=NOW))
    with world.db.session() as session:
        served, counted = cached_report(session, world.user, MARCH,
                                        now=NOW + MAX_AGE - timedelta(seconds=1))
        assert (served.total, counted) == (first.total, NOW)
        fresh, counted = cached_report(session, world.user, MARCH, now=NOW + MAX_AGE)
        assert (fresh.total, counted) == (first.total + 1, NOW + MAX_AGE)
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReportSnapshot)) == 1


def test_two_workers_writing_the_same_snapshot_do_not_conflict(world: World):  # noqa: F811
    """Both count (nothing stored yet), both write the one key at once: no duplicate-key error,
    one snapshot with the figures."""
    ready = threading.Barrier(2)
    failures: list[BaseException] = []
    counted: list[datetime] = []

    def worker(offset: int) -> None:
        try:
            with world.db.session() as session:
                ready.wait(timeout=30)
                counted.append(cached_report(session, world.user, MARCH,
                                             now=NOW + timedelta(seconds=offset))[1])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with world.db.session() as session:
        stored = session.scalars(select(ReportSnapshot)).all()
        assert len(stored) == 1 and decode(stored[0].payload)[0].total == board_report(
            session, world.user, MARCH).total
        if session.get_bind().dialect.name == "postgresql":
            # One counted; the other waited on the key's lock and served that snapshot.
            assert counted[0] == counted[1]


def test_a_title_with_control_characters_still_makes_a_workbook(world: World):  # noqa: F811
    """Feeds carry stray control characters (a vertical tab, an escape); Excel's format cannot
    hold them, so they are dropped from the workbook instead of failing the download."""
    import io

    import openpyxl

    from reports.export import xlsx

    with world.db.session() as session:
        report = board_report(session, world.user, MARCH)
    report.stories[0].title = "Nyhet\x0bmed\x1bkontrolltecken"
    book = openpyxl.load_workbook(io.BytesIO(xlsx(report, "Distriktet\x07", NOW)))
    titles = [row[1] for row in book["stories"].iter_rows(min_row=2, values_only=True)]
    assert titles[0] == "Nyhetmedkontrolltecken"
    assert book["report"]["B1"].value == "Distriktet"

"""The board's report: how visible the party is in media over a period, on which issues,
against whom, where, and with which stories.

Every figure is a SQL aggregate over the rows the mention log is built from, read through the
same stored time (`sort_at`: published, else first seen) and its indexes: the mentions
themselves, their issues (mention_watchlists), the parties and people named in them
(mention_parties, mention_people) and their sightings. No mention is loaded into Python; a
report of a month over a million mentions counts some tens of thousands of index entries.

What a figure means, said once here and on the page:
- *mentions*: stories (a story syndicated or updated across outlets is one mention);
- an issue's mentions: the mentions its watchlist matched (a mention may belong to several);
- *share of voice*: of all namings of parties in the period's mentions, the share naming this
  party (a mention naming three parties counts once for each);
- *outlets*: the outlet that carried the mention first; *top stories* rank by how many outlets
  carried the story (its sightings), then by how many times it was seen.

Our own accounts' posts (monitor.own) are not coverage: every query counts only what passes
`_counted`, the one condition for all of them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session

from core.auth import Action, require
from core.users import User
from monitor.models import (
    Mention,
    MentionParty,
    MentionPerson,
    MentionWatchlist,
    Person,
    Sighting,
    SourceKind,
    Watchlist,
)
from monitor.own import coverage
from monitor.parties import CODES
from reports.period import Bucket, Period
from reports.publishing import Publishing, our_publishing

TONES = ("positive", "neutral", "negative")
UNSCORED = "unscored"
TOP_STORIES = 10
TOP_PEOPLE = 10
TOP_OUTLETS = 15


def change(now: int, before: int) -> float | None:
    """The relative change from `before` to `now` (0.25 = +25 %); None when there was nothing
    before (a change from nothing has no percentage)."""
    return None if before == 0 else (now - before) / before


@dataclass
class IssueRow:
    watchlist_id: int
    name: str
    count: int
    previous: int
    series: list[int]  # per bucket of the period

    @property
    def change(self) -> float | None:
        return change(self.count, self.previous)


@dataclass
class VoiceRow:
    party: str
    count: int
    share: float  # of all party namings in the period (0–1)
    previous_share: float | None


@dataclass
class OutletRow:
    outlet: str
    kind: SourceKind
    count: int
    previous: int

    @property
    def change(self) -> float | None:
        return change(self.count, self.previous)


@dataclass
class StoryRow:
    mention_id: int
    title: str
    url: str | None
    outlet: str
    at: datetime
    outlets: int  # how many outlets carried it
    sightings: int


@dataclass
class PersonRow:
    person_id: int
    name: str
    party: str | None
    count: int


@dataclass
class Report:
    period: Period
    previous: Period
    buckets: list[Bucket]
    own_party: str
    total: int
    previous_total: int
    series: list[int]  # all mentions per bucket
    issues: list[IssueRow]
    voice: list[VoiceRow]  # the parliament's parties, in its order
    voice_by_issue: dict[int, list[VoiceRow]]
    voice_series: dict[str, list[int]]  # party -> namings per bucket
    outlets: list[OutletRow]
    outlet_issues: dict[str, dict[int, int]]  # outlet -> watchlist id -> mentions
    stories: list[StoryRow]
    people: list[PersonRow]
    # Tone (monitor.sentiment, scored at ingest): mentions per label ("positive", "neutral",
    # "negative"; "unscored" for those stored before tone was scored), per issue and per bucket.
    tone_by_issue: dict[int, dict[str, int]] = field(default_factory=dict)
    tone_series: dict[str, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # What we said (reports.publishing): our accounts' publications, in the reader's scope.
    publishing: Publishing | None = None

    @property
    def change(self) -> float | None:
        return change(self.total, self.previous_total)

    @property
    def own_share(self) -> VoiceRow | None:
        return next((row for row in self.voice if row.party == self.own_party), None)

    @property
    def grew_most(self) -> IssueRow | None:
        """The issue whose mentions grew most in number against the previous period."""
        grown = [row for row in self.issues if row.count > row.previous]
        return max(grown, key=lambda r: (r.count - r.previous, r.count), default=None)

    @property
    def top_outlet(self) -> OutletRow | None:
        return self.outlets[0] if self.outlets else None


def _in(column: ColumnElement[datetime], period: Period) -> ColumnElement[bool]:
    return (column >= period.start) & (column < period.end)


def _counted(at: ColumnElement[datetime], mention_id: ColumnElement[int], period: Period
             ) -> ColumnElement[bool]:
    """The report's one condition on what a figure counts, used by every query: a row of a
    mention in the period (`at`: its stored time, on whichever table is read) that is
    coverage, never one of our own accounts' posts (monitor.own.coverage)."""
    return _in(at, period) & coverage(mention_id)


def _bucket_of(column: ColumnElement[datetime], buckets: list[Bucket]) -> ColumnElement[int]:
    """The index of the bucket a time falls in: one CASE over the buckets' UTC edges, the same
    SQL on both databases (no time-zone arithmetic in the database)."""
    return case(*((column < bucket.end, i) for i, bucket in enumerate(buckets)),
                else_=len(buckets) - 1).label("bucket")


def board_report(session: Session, user: User, period: Period, *, own_party: str = "V"
                 ) -> Report:
    """The report for `period`, compared with the period of the same length before it."""
    require(user, Action.VIEW_REPORTS)
    previous = period.previous()
    buckets = period.buckets()
    mw, mp = MentionWatchlist, MentionParty

    def total(p: Period) -> int:
        return session.scalar(select(func.count()).select_from(Mention)
                              .where(_counted(Mention.sort_at, Mention.id, p))) or 0

    series = [0] * len(buckets)
    for index, n in session.execute(
            select(bucket := _bucket_of(Mention.sort_at, buckets), func.count())
            .where(_counted(Mention.sort_at, Mention.id, period)).group_by(bucket)):
        series[index] = n

    # Issues: per bucket now, in total before.
    names = dict(session.execute(select(Watchlist.id, Watchlist.name)).all())
    per_issue: dict[int, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for watchlist_id, index, n in session.execute(
            select(mw.watchlist_id, bucket := _bucket_of(mw.sort_at, buckets), func.count())
            .where(_counted(mw.sort_at, mw.mention_id, period))
            .group_by(mw.watchlist_id, bucket)):
        per_issue[watchlist_id][index] = n
    before = dict(session.execute(select(mw.watchlist_id, func.count())
                                  .where(_counted(mw.sort_at, mw.mention_id, previous))
                                  .group_by(mw.watchlist_id)).all())
    issues = [IssueRow(w, names.get(w, "?"), sum(per_issue[w]), before.get(w, 0), per_issue[w])
              for w in set(per_issue) | set(before) if w in names]
    issues.sort(key=lambda r: (-r.count, -r.previous, r.name.casefold()))

    # Share of voice: overall (now and before), per issue, per bucket.
    def namings(p: Period) -> dict[str, int]:
        return dict(session.execute(select(mp.party, func.count())
                                    .where(_counted(mp.sort_at, mp.mention_id, p))
                                    .group_by(mp.party)).all())

    now_counts, before_counts = namings(period), namings(previous)
    voice = _voice(now_counts, before_counts)
    by_issue: dict[int, dict[str, int]] = defaultdict(dict)
    for watchlist_id, party, n in session.execute(
            select(mw.watchlist_id, mp.party, func.count())
            .join(mp, mp.mention_id == mw.mention_id)
            .where(_counted(mw.sort_at, mw.mention_id, period))
            .group_by(mw.watchlist_id, mp.party)):
        by_issue[watchlist_id][party] = n
    voice_by_issue = {w: _voice(counts, {}) for w, counts in by_issue.items()}
    voice_series: dict[str, list[int]] = {code: [0] * len(buckets) for code in CODES}
    for party, index, n in session.execute(
            select(mp.party, bucket := _bucket_of(mp.sort_at, buckets), func.count())
            .where(_counted(mp.sort_at, mp.mention_id, period))
            .group_by(mp.party, bucket)):
        if party in voice_series:
            voice_series[party][index] = n

    # Outlets, and which issues each covers.
    def by_outlet(p: Period) -> dict[tuple[str, SourceKind], int]:
        return {(o, SourceKind(k)): n for o, k, n in session.execute(
            select(Mention.outlet, Mention.source_kind, func.count())
            .where(_counted(Mention.sort_at, Mention.id, p))
            .group_by(Mention.outlet, Mention.source_kind))}

    outlets_now, outlets_before = by_outlet(period), by_outlet(previous)
    outlets = sorted((OutletRow(o or "", k, n, outlets_before.get((o, k), 0))
                      for (o, k), n in outlets_now.items()),
                     key=lambda r: (-r.count, r.outlet.casefold(), r.kind.value))[:TOP_OUTLETS]
    shown = {row.outlet for row in outlets}
    outlet_issues: dict[str, dict[int, int]] = defaultdict(dict)
    for outlet, watchlist_id, n in session.execute(
            select(Mention.outlet, mw.watchlist_id, func.count())
            .join(mw, mw.mention_id == Mention.id)
            .where(_counted(Mention.sort_at, Mention.id, period), Mention.outlet.in_(shown))
            .group_by(Mention.outlet, mw.watchlist_id)):
        outlet_issues[outlet][watchlist_id] = n

    tone_by_issue: dict[int, dict[str, int]] = defaultdict(dict)
    for watchlist_id, tone, n in session.execute(
            select(mw.watchlist_id, Mention.tone, func.count())
            .join(Mention, Mention.id == mw.mention_id)
            .where(_counted(mw.sort_at, mw.mention_id, period))
            .group_by(mw.watchlist_id, Mention.tone)):
        tone_by_issue[watchlist_id][tone or UNSCORED] = n
    tone_series: dict[str, list[int]] = {label: [0] * len(buckets) for label in TONES}
    for tone, index, n in session.execute(
            select(Mention.tone, bucket := _bucket_of(Mention.sort_at, buckets), func.count())
            .where(_counted(Mention.sort_at, Mention.id, period))
            .group_by(Mention.tone, bucket)):
        tone_series.setdefault(tone or UNSCORED, [0] * len(buckets))[index] += n

    return Report(period, previous, buckets, own_party, sum(series), total(previous), series,
                  issues, voice, dict(voice_by_issue), voice_series, outlets,
                  dict(outlet_issues), _stories(session, period), _people(session, period),
                  dict(tone_by_issue), tone_series,
                  publishing=our_publishing(session, user, period, buckets))


def _voice(now: dict[str, int], before: dict[str, int]) -> list[VoiceRow]:
    """Shares of the parliament's parties (other codes are left out of the whole)."""
    whole = sum(now.get(code, 0) for code in CODES)
    whole_before = sum(before.get(code, 0) for code in CODES)
    return [VoiceRow(code, now.get(code, 0), now.get(code, 0) / whole if whole else 0.0,
                     before.get(code, 0) / whole_before if whole_before else None)
            for code in CODES]


def _stories(session: Session, period: Period) -> list[StoryRow]:
    """The stories carried by most outlets (then seen most often, then newest)."""
    outlets = func.count(distinct(Sighting.outlet)).label("outlets")
    seen = func.count(Sighting.id).label("seen")
    widest = (select(Sighting.mention_id, outlets, seen)
              .join(Mention, Mention.id == Sighting.mention_id)
              .where(_counted(Mention.sort_at, Sighting.mention_id, period))
              .group_by(Sighting.mention_id)
              .order_by(outlets.desc(), seen.desc(), Sighting.mention_id.desc())
              .limit(TOP_STORIES).subquery())
    rows = session.execute(
        select(Mention.id, Mention.title, Mention.url, Mention.outlet, Mention.sort_at,
               widest.c.outlets, widest.c.seen)
        .join(widest, widest.c.mention_id == Mention.id)
        .order_by(widest.c.outlets.desc(), widest.c.seen.desc(), Mention.id.desc())).all()
    return [StoryRow(*row) for row in rows]


def _people(session: Session, period: Period) -> list[PersonRow]:
    """The people most named (the candidates and representatives the comms team watches)."""
    rows = session.execute(
        select(Person.id, Person.name, Person.party, func.count())
        .join(MentionPerson, MentionPerson.person_id == Person.id)
        .where(_counted(MentionPerson.sort_at, MentionPerson.mention_id, period))
        .group_by(Person.id, Person.name, Person.party)
        .order_by(func.count().desc(), Person.name).limit(TOP_PEOPLE)).all()
    return [PersonRow(*row) for row in rows]

"""Storing what the sources found: one mention per story, one sighting per copy of it.

`ingest` takes a batch of items polled from one source (or entered by hand) and, for each:

- an item this source delivered before (same `item_key`) is an update: its sighting, and the
  mention too if this was the copy the mention was made from, take the new title, text and link
  (hits, parties, people and signature are worked out again); never a new mention;
- an item that matches no watchlist is not a mention and is not stored;
- a copy of a story already stored (monitor.dedupe: same normalised URL, or nearly the same
  text within a week) becomes another sighting of that mention, which also gets any watchlists
  the copy matched that it did not have yet;
- anything else is a new mention with its watchlists and its first sighting.

A new mention stores its author where the source knew it, and is ours (`own_account_id`) when
that author is one of our accounts (monitor.own). Our post and another's copy of the same words
are kept apart: an outlet quoting our post in full is coverage, not a sighting of our post.

The parties and people a mention names are rows (MentionParty, MentionPerson); a new outlet
is added to `outlets` (the log's outlet choices). Mention.sort_at and its copies on the link rows
follow published_at by themselves (monitor.models._keep_sort_times).

Mention.hits are the matcher's hits as JSON `[{"term", "start", "end", "text"}]`, offsets into
`monitor.highlight.document(title, text)` (title, a blank line, text): the text that was matched.

`ingest_and_alert` does the same and, in the same transaction, sends the immediate alerts
(monitor.alerts): the news is stored exactly when the mention is. The poller's caller binds the
matcher: `functools.partial(ingest_and_alert, matcher=matcher)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.db import dialect_insert
from monitor.dedupe import (
    Signature,
    find_same_story,
    lock_stories,
    normalize_url,
    remember,
    signature_of,
)
from monitor.highlight import document
from monitor.models import (
    Mention,
    MentionParty,
    MentionPerson,
    MentionWatchlist,
    Outlet,
    Person,
    Sighting,
    Source,
    SourceKind,
    Watchlist,
)
from monitor.own import OwnAccounts, author_columns
from monitor.sentiment import score

URL_LENGTH = 2000
OUTLET_LENGTH = 200


@dataclass
class Ingested:
    """What a batch did: the new mentions, and older ones that matched more watchlists now."""

    new: list[int] = field(default_factory=list)
    grown: list[int] = field(default_factory=list)
    sightings: int = 0
    updated: int = 0


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def _title(item: Any) -> str:
    return " ".join((item.title or "").split())


def _text(item: Any) -> str:
    return (item.text or "").strip()


def _hits_json(result: Any) -> str:
    return json.dumps([hit.as_dict() for hit in result.hits], ensure_ascii=False)


def name_parties(mention: Mention, codes: Iterable[str], *, replace: bool = False) -> None:
    """The mention names these parties too (or, with `replace`, only these)."""
    wanted = list(dict.fromkeys(codes))
    if replace:
        mention.party_rows[:] = [row for row in mention.party_rows if row.party in wanted]
    have = {row.party for row in mention.party_rows}
    mention.party_rows.extend(MentionParty(party=code) for code in wanted if code not in have)


def name_people(mention: Mention, person_ids: Iterable[int], *, replace: bool = False) -> None:
    """The mention names these people too (or, with `replace`, only these)."""
    wanted = sorted(set(person_ids))
    if replace:
        mention.person_rows[:] = [row for row in mention.person_rows
                                  if row.person_id in wanted]
    have = {row.person_id for row in mention.person_rows}
    mention.person_rows.extend(MentionPerson(person_id=p) for p in wanted if p not in have)


def remember_outlet(session: Session, name: str) -> None:
    """Add the outlet to the log's choices if it is not there yet; another worker adding it
    at the same moment is no error (ON CONFLICT DO NOTHING; on SQLite, INSERT OR IGNORE)."""
    if not name:
        return
    session.execute(dialect_insert(session)(Outlet).values(name=name[:OUTLET_LENGTH])
                    .on_conflict_do_nothing())


def _add_watchlists(session: Session, mention: Mention, watchlist_ids: Iterable[int]) -> bool:
    have = {link.watchlist_id for link in mention.watchlists}
    added = False
    for watchlist_id in watchlist_ids:
        if watchlist_id not in have:
            mention.watchlists.append(MentionWatchlist(watchlist_id=watchlist_id))
            have.add(watchlist_id)
            added = True
    return added


class _Batch:
    """One call of ingest: the source, the matcher, the watchlists that still exist."""

    def __init__(self, session: Session, source: Source | None, matcher: Any,
                 now: datetime) -> None:
        self.session = session
        self.source = source
        self.source_id = source.id if source is not None else None
        self.matcher = matcher
        self.now = now
        self.result = Ingested()
        # A watchlist deleted or switched off since the matcher was built must not be linked.
        self.active = set(session.scalars(select(Watchlist.id).where(Watchlist.active)))
        # Likewise a person deleted since: a row naming them would break its foreign key.
        self.people = set(session.scalars(select(Person.id)))
        self.locked = False
        self.outlets: set[str] = set()
        self.own = OwnAccounts.load(session)

    def lock(self) -> bool:
        """Before the batch's first write to a mention: one writer of mentions at a time
        (monitor.dedupe). True when the lock was taken just now."""
        if self.locked:
            return False
        lock_stories(self.session)
        self.locked = True
        return True

    def match(self, title: str, text: str) -> tuple[Any, list[int]]:
        result = self.matcher.match(document(title, text))
        return result, [w for w in dict.fromkeys(result.watchlist_ids) if w in self.active]

    def people_of(self, result: Any) -> list[int]:
        return sorted({p for p in result.people if p in self.people})

    def known(self, items: Sequence[Any]) -> dict[str, Sighting]:
        keys = list({item.item_key for item in items if item.item_key})
        query = select(Sighting).where(
            Sighting.source_id.is_(None) if self.source_id is None
            else Sighting.source_id == self.source_id)
        found: dict[str, Sighting] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.update((s.item_key, s) for s in self.session.scalars(
                query.where(Sighting.item_key.in_(chunk))))
        return found

    def sighting(self, item: Any, title: str) -> Sighting:
        outlet = item.outlet or (self.source.outlet if self.source is not None else "")
        return Sighting(source_id=self.source_id, item_key=item.item_key[:URL_LENGTH],
                        url=_clip(item.url, URL_LENGTH),
                        normalized_url=_clip(normalize_url(item.url), URL_LENGTH),
                        title=title, outlet=(outlet or "")[:OUTLET_LENGTH], seen_at=self.now)

    def update(self, sighting: Sighting, item: Any) -> None:
        """The source delivered this item before: take what changed, never a new mention."""
        title, text = _title(item), _text(item)
        mention = self.session.get(Mention, sighting.mention_id)
        if mention is None:
            return
        primary = bool(mention.sightings) and mention.sightings[0].id == sighting.id
        changed_copy = title != sighting.title or (item.url or None) != sighting.url
        changed_story = primary and (title != mention.title or text != mention.text)
        if not changed_copy and not changed_story:
            return
        self.lock()
        sighting.title = title
        sighting.url = _clip(item.url, URL_LENGTH)
        sighting.normalized_url = _clip(normalize_url(item.url), URL_LENGTH)
        result, watchlist_ids = self.match(title, text)
        if primary:
            sig = signature_of(title, text)
            mention.title, mention.text = title, text
            mention.url = sighting.url
            mention.normalized_url = sighting.normalized_url
            mention.hits = _hits_json(result)
            name_parties(mention, result.parties, replace=True)
            name_people(mention, self.people_of(result), replace=True)
            mention.signature = sig.dumps()
            mention.sentiment, mention.tone = _tone(title, text)
            if mention.published_at is None and item.published_at is not None:
                mention.published_at = item.published_at
        else:
            name_parties(mention, result.parties)
            name_people(mention, self.people_of(result))
        if _add_watchlists(self.session, mention, watchlist_ids):
            self.result.grown.append(mention.id)
        mention.updated_at = self.now
        self.session.flush()
        if primary:
            remember(self.session, mention, sig)
        self.result.updated += 1

    def add(self, item: Any) -> Sighting | None:
        """A new item: a new sighting of a known story, a new mention, or nothing."""
        title, text = _title(item), _text(item)
        result, watchlist_ids = self.match(title, text)
        if not watchlist_ids:
            return None
        sig = signature_of(title, text)
        own_account_id = self.own.account_of(getattr(item, "author", None))
        story = find_same_story(self.session, item, sig, now=self.now, fresh=self.lock())
        if story is not None and story.own_account_id != own_account_id:
            story = None  # ours and another's are never one story (see above)
        sighting = self.sighting(item, title)
        if story is not None:
            story.sightings.append(sighting)
            name_parties(story, result.parties)
            name_people(story, self.people_of(result))
            if _add_watchlists(self.session, story, watchlist_ids):
                self.result.grown.append(story.id)
            if story.published_at is None and item.published_at is not None:
                story.published_at = item.published_at
            self.session.flush()
            self.result.sightings += 1
            return sighting
        mention = self.create(item, title, text, result, watchlist_ids, sig, sighting,
                              own_account_id)
        self.result.new.append(mention.id)
        return sighting

    def create(self, item: Any, title: str, text: str, result: Any, watchlist_ids: list[int],
               sig: Signature, sighting: Sighting, own_account_id: int | None) -> Mention:
        source_kind = item.source_kind or (self.source.kind if self.source is not None
                                           else SourceKind.MANUAL)
        tone = _tone(title, text)
        mention = Mention(
            title=title, url=sighting.url, normalized_url=sighting.normalized_url,
            outlet=sighting.outlet, source_kind=source_kind, text=text,
            published_at=item.published_at, first_seen_at=self.now, signature=sig.dumps(),
            hits=_hits_json(result), updated_at=self.now,
            sentiment=tone[0], tone=tone[1],
            watchlists=[MentionWatchlist(watchlist_id=w) for w in watchlist_ids],
            party_rows=[MentionParty(party=code) for code in dict.fromkeys(result.parties)],
            person_rows=[MentionPerson(person_id=p) for p in self.people_of(result)],
            sightings=[sighting], own_account_id=own_account_id,
            **author_columns(getattr(item, "author", None)))
        if mention.outlet and mention.outlet not in self.outlets:
            remember_outlet(self.session, mention.outlet)
            self.outlets.add(mention.outlet)
        self.session.add(mention)
        self.session.flush()
        remember(self.session, mention, sig)
        return mention


def _tone(title: str, text: str) -> tuple[float, str]:
    """The story's tone (monitor.sentiment) as stored: its score and label."""
    found = score(f"{title}\n{text}")
    return round(found.score, 4), found.label


def ingest_items(session: Session, source: Source | None, items: Iterable[Any], matcher: Any,
                 *, now: datetime | None = None) -> Ingested:
    """Store a batch of items (monitor.items.Item) in the caller's transaction."""
    batch = _Batch(session, source, matcher, now or utcnow())
    items = [item for item in items if item.item_key]
    known = batch.known(items)
    for item in items:
        seen = known.get(item.item_key)
        if seen is not None:
            batch.update(seen, item)
            continue
        added = batch.add(item)
        if added is not None:
            known[item.item_key] = added
    grown = [m for m in dict.fromkeys(batch.result.grown) if m not in batch.result.new]
    batch.result.grown = grown
    return batch.result


def ingest(session: Session, source: Source | None, items: Iterable[Any], matcher: Any,
           *, now: datetime | None = None) -> list[int]:
    """Store a batch of items from `source` (None: a clipping entered by hand); returns the ids
    of the new mentions. Runs in the caller's transaction."""
    return ingest_items(session, source, items, matcher, now=now).new


def ingest_and_alert(session: Session, source: Source | None, items: Iterable[Any],
                     matcher: Any, *, now: datetime | None = None) -> list[int]:
    """ingest, then the immediate alerts for the new stories (and for known stories that now
    match another high-priority watchlist), all in the caller's transaction."""
    from monitor.alerts import alert_new_mentions

    done = ingest_items(session, source, items, matcher, now=now)
    alert_new_mentions(session, done.new + done.grown, now=now)
    return done.new

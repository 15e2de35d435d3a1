"""Manual entry: a clipping from print or radio (outlet, date, title, text, link), handed to the
same ingest as every polled item, under one "manual" source whose history records who added what.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Action, can
from core.clock import STOCKHOLM, utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from monitor.items import Item, item_key
from monitor.models import Mention, Sighting, Source, SourceKind, SourcePoll

MANUAL_SOURCE = "Manuellt inlagda klipp"
Ingest = Callable[[Session, Source, list[Item]], list[int]]


class NotAllowed(PermissionError):
    """The user's role may not add clippings (the web layer answers 403)."""


def manual_source(session: Session) -> Source:
    """The one source every clipping belongs to (made on first use)."""
    source = session.scalar(select(Source).where(Source.kind == SourceKind.MANUAL)
                            .order_by(Source.id).limit(1))
    if source is None:
        source = Source(name=MANUAL_SOURCE, kind=SourceKind.MANUAL, outlet="", url=None)
        session.add(source)
        session.flush()
    return source


def _moment(published_at: date | datetime) -> datetime:
    if isinstance(published_at, datetime):
        if published_at.tzinfo is None:
            return published_at.replace(tzinfo=STOCKHOLM).astimezone(UTC)
        return published_at.astimezone(UTC)
    return datetime.combine(published_at, time(), STOCKHOLM).astimezone(UTC)


def add_clipping(session: Session, outlet: str, published_at: date | datetime | None,
                 title: str, text: str, link: str | None, user: User, *,
                 ingest: Ingest | None = None) -> Mention | None:
    """Check the clipping, then ingest it like any polled item (by default with the current
    watchlists and the immediate alerts); returns the mention it is now part of, or None when it
    matches no watchlist (then nothing is stored but the history line).

    A date without a time means that day in Stockholm; a naive datetime is Stockholm time.
    """
    if not can(user, Action.MANAGE_MONITORING):
        raise NotAllowed("role may not add clippings")
    outlet, title, text, link = outlet.strip(), title.strip(), text.strip(), (link or "").strip()
    errors = []
    if not outlet:
        errors.append(UserError(N_("Name the outlet (paper, station, programme)."),
                                field="outlet"))
    if not title:
        errors.append(UserError(N_("Give the clipping a title."), field="title"))
    if published_at is None:
        errors.append(UserError(N_("Give the date it was published or broadcast."),
                                field="published_at"))
    elif _moment(published_at) > utcnow() + timedelta(days=1):
        errors.append(UserError(N_("The date is in the future."), field="published_at"))
    if link and not link.startswith(("http://", "https://")):
        errors.append(UserError(N_("A link starts with http:// or https://."), field="link"))
    if errors:
        raise ValidationErrors(errors)
    assert published_at is not None
    moment = _moment(published_at)
    item = Item(item_key=item_key(None, link, outlet, title, moment.date().isoformat()),
                url=link or None, title=title, text=text, published_at=moment, outlet=outlet,
                source_kind=SourceKind.MANUAL)
    source = manual_source(session)
    if ingest is None:
        from monitor.polling import LiveIngest

        ingest = LiveIngest()
    new = ingest(session, source, [item])
    session.add(SourcePoll(source_id=source.id, outcome="ok", items_seen=1, items_new=len(new),
                           detail=f"clipping “{title[:100]}” ({outlet}) added by {user.email}"))
    session.flush()
    return session.scalar(select(Mention).join(Sighting, Sighting.mention_id == Mention.id)
                          .where(Sighting.source_id == source.id,
                                 Sighting.item_key == item.item_key))

"""Manual entry: a clipping from print or radio (outlet, date, title, text, link), handed to the
same ingest as every polled item, under one "manual" source whose history records who added what.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Action, require
from core.clock import STOCKHOLM, LocalTimeError, local_to_utc, utcnow
from core.entered_time import EnteredTime, read_wall_clock
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from monitor.items import Item, item_key
from monitor.models import Mention, Sighting, Source, SourceKind, SourcePoll

MANUAL_SOURCE = "Manuellt inlagda klipp"
Ingest = Callable[[Session, Source, list[Item]], list[int]]


def manual_source(session: Session) -> Source:
    """The one source every clipping belongs to (made on first use)."""
    source = session.scalar(select(Source).where(Source.kind == SourceKind.MANUAL)
                            .order_by(Source.id).limit(1))
    if source is None:
        source = Source(name=MANUAL_SOURCE, kind=SourceKind.MANUAL, outlet="", url=None)
        session.add(source)
        session.flush()
    return source


def _moment(published_at: date | datetime | EnteredTime, errors: list[UserError]
            ) -> datetime | None:
    """The moment in UTC. A naive time is what a Stockholm wall clock showed: one in the spring
    gap never happened, so it is refused at the field (in the autumn overlap the first, summer
    time reading is taken: a clipping's hour that night hardly matters). Typed in the form
    (ÅÅÅÅ-MM-DD, optionally TT:MM), it is read by core.entered_time."""
    if isinstance(published_at, EnteredTime):
        local = read_wall_clock(published_at, "published_at", errors, time_required=False,
                                ask_when_doubled=False)
        return None if local is None else local_to_utc(local)
    if isinstance(published_at, datetime):
        if published_at.tzinfo is not None:
            return published_at.astimezone(UTC)
        try:
            return local_to_utc(published_at)
        except LocalTimeError:
            errors.append(UserError(
                N_("%(time)s does not exist in Swedish time: the clocks jump from 02:00 to 03:00 "
                   "that night."), field="published_at",
                time=published_at.strftime("%Y-%m-%d %H:%M")))
            return None
    return datetime.combine(published_at, time(), STOCKHOLM).astimezone(UTC)


def add_clipping(session: Session, outlet: str,
                 published_at: date | datetime | EnteredTime | None,
                 title: str, text: str, link: str | None, user: User, *,
                 ingest: Ingest | None = None) -> Mention | None:
    """Check the clipping, then ingest it like any polled item (by default with the current
    watchlists and the immediate alerts); returns the mention it is now part of, or None when it
    matches no watchlist (then nothing is stored but the history line).

    A date without a time means that day in Stockholm; a naive datetime is Stockholm time;
    an EnteredTime is what the form's fields held.
    NotAllowed unless the user may set up monitoring; ValidationErrors lists every problem.
    """
    require(user, Action.MANAGE_MONITORING)
    if isinstance(published_at, EnteredTime) and published_at.empty:
        published_at = None
    outlet, title, text, link = outlet.strip(), title.strip(), text.strip(), (link or "").strip()
    errors: list[UserError] = []
    if not outlet:
        errors.append(UserError(N_("Name the outlet (paper, station, programme)."),
                                field="outlet"))
    if not title:
        errors.append(UserError(N_("Give the clipping a title."), field="title"))
    moment = None if published_at is None else _moment(published_at, errors)
    if published_at is None:
        errors.append(UserError(N_("Give the date it was published or broadcast."),
                                field="published_at"))
    elif moment is not None and moment > utcnow() + timedelta(days=1):
        errors.append(UserError(N_("The date is in the future."), field="published_at"))
    if link and not link.startswith(("http://", "https://")):
        errors.append(UserError(N_("A link starts with http:// or https://."), field="link"))
    if errors:
        raise ValidationErrors(errors)
    assert moment is not None
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

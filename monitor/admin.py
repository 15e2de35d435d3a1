"""Setting up monitoring: sources, watchlists (current issues), people and alert subscriptions.

Every change is checked completely and refused with every problem at once (ValidationErrors with
field names, as publisher.posts does); the web layer shows them next to the fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from core.audit import diff, record
from core.auth import Action, NotAllowed, in_scope, require
from core.clock import utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.users import OrganisationKind, User
from monitor.models import (
    AlertSubscription,
    Person,
    Priority,
    Source,
    SourceKind,
    SourcePoll,
    SourceState,
    Watchlist,
)

# The Swedish parliamentary parties, by the letters the media use.
PARTIES = ("V", "S", "MP", "C", "L", "KD", "M", "SD")
NAME_MAX = 200
MIN_INTERVAL_MINUTES = 1
MAX_INTERVAL_MINUTES = 24 * 60
URL_KINDS = (SourceKind.FEED, SourceKind.PAGE)
# Sources that read through a connected account, and the platform that account must be on.
ACCOUNT_KINDS = {SourceKind.X_SEARCH: "x", SourceKind.FB_COMMENTS: "facebook"}
# The publisher's accounts, read through a table clause: monitor imports no publisher.
ACCOUNTS = table("accounts", column("id"), column("platform"), column("organisation_id"),
                 column("active"))


def _require(user: User, action: Action = Action.MANAGE_MONITORING) -> None:
    """core.auth.NotAllowed unless the user may set up monitoring (or do ``action``)."""
    require(user, action)


def is_district_user(user: User) -> bool:
    return user.organisation.kind is OrganisationKind.DISTRICT


def _require_district(user: User) -> None:
    """Watchlists, people and the news sources are the district's, shared by every association:
    only a district user who may set up monitoring changes them (an association's user would
    otherwise change what every other association watches)."""
    _require(user)
    if not is_district_user(user):
        raise NotAllowed("watchlists, people and news sources are the district's")


def _name(value: str, errors: list[UserError], message: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        errors.append(UserError(message, field="name"))
    elif len(name) > NAME_MAX:
        errors.append(UserError(N_("The name is too long: %(count)s of %(limit)s characters."),
                                field="name", count=len(name), limit=NAME_MAX))
    return name


# --- Sources ----------------------------------------------------------------------------------


@dataclass
class SourceInput:
    name: str
    kind: SourceKind | str
    outlet: str = ""
    url: str | None = None
    interval_minutes: int | None = 1
    query: str | None = None  # X search: the search words
    account_id: str | None = None  # X search / Facebook comments: the connected account's id


def _readable(url: str) -> bool:
    """Whether the fetcher can read the address at all (an octal host, 0177.0.0.1, or a port
    out of range cannot be: refused when saved, not failed at every poll)."""
    try:
        httpx.URL(url)
        _ = urlsplit(url).port  # raises ValueError for a port out of range
    except (httpx.InvalidURL, ValueError):
        return False
    return True


def check_web_address(url: str | None, field: str = "url") -> UserError | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in (url or "") \
            or not _readable(url or ""):
        return UserError(N_("Give a full web address starting with https:// or http://."),
                         field=field)
    return None


def _checked_account(session: Session, user: User, kind: SourceKind, chosen: str | None,
                     errors: list[UserError]) -> int | None:
    """The id of the connected account a platform source reads through: one of the kind's
    platform, active, and in the user's scope (NotAllowed otherwise: the form never offers
    another association's account, so only a forged form gets here)."""
    chosen = (chosen or "").strip()
    row = session.execute(select(ACCOUNTS.c.platform, ACCOUNTS.c.organisation_id,
                                 ACCOUNTS.c.active).where(ACCOUNTS.c.id == int(chosen))
                          ).first() if chosen.isdigit() and len(chosen) < 18 else None
    if row is None or str(row.platform) != ACCOUNT_KINDS[kind] or not row.active:
        errors.append(UserError(N_("Choose the connected X account that searches.")
                                if kind is SourceKind.X_SEARCH else
                                N_("Choose the connected Facebook Page whose comments to "
                                   "read."), field="account_id"))
        return None
    if not in_scope(user, int(row.organisation_id)):
        raise NotAllowed("account not in your organisation")
    return int(chosen)


def source_account(source: Source) -> int | None:
    """The connected account the source reads through, if any ("account_id": as sources made
    in the pages were stored before the pollers' key was used)."""
    config = source_config(source)
    found = str(config.get("account") or config.get("account_id") or "")
    return int(found) if found.isdigit() and len(found) < 18 else None


def source_organisation(session: Session, source: Source) -> int | None:
    """The organisation of the account the source reads through; None for the district's."""
    account = source_account(source)
    return None if account is None else session.scalar(
        select(ACCOUNTS.c.organisation_id).where(ACCOUNTS.c.id == account))


def may_manage_source(session: Session, user: User, source: Source) -> bool:
    """District users manage every source; an association's user only the sources that read
    through their own association's accounts (feeds and pages are the district's)."""
    if is_district_user(user):
        return True
    account = source_account(source)
    if account is None:
        return False
    organisation = session.scalar(select(ACCOUNTS.c.organisation_id)
                                  .where(ACCOUNTS.c.id == account))
    return organisation is not None and in_scope(user, int(organisation))


def get_source(session: Session, user: User, source_id: int) -> Source:
    """The source, if the user may manage it: LookupError if there is none, NotAllowed if it
    is another organisation's."""
    _require(user)
    source = session.get(Source, source_id)
    if source is None:
        raise LookupError(source_id)
    if not may_manage_source(session, user, source):
        raise NotAllowed("source not in your organisation")
    return source


def _checked_source(session: Session, user: User, data: SourceInput,
                    existing: Source | None = None) -> tuple[dict[str, object], list[UserError]]:
    errors: list[UserError] = []
    values: dict[str, object] = {}
    values["name"] = _name(data.name, errors, N_("Give the source a name."))
    try:
        kind = SourceKind(data.kind)
    except ValueError:
        errors.append(UserError(N_("Choose what kind of source this is."), field="kind"))
        kind = None
    if kind is not None and kind not in ACCOUNT_KINDS and not is_district_user(user):
        raise NotAllowed("news sources are the district's")
    values["kind"] = kind
    outlet = " ".join((data.outlet or "").split())
    if len(outlet) > NAME_MAX:
        errors.append(UserError(N_("The outlet's name is too long: %(count)s of %(limit)s "
                                   "characters."), field="outlet", count=len(outlet),
                                limit=NAME_MAX))
    values["outlet"] = outlet or values["name"]
    url = (data.url or "").strip() or None
    if (url or kind in URL_KINDS) and (problem := check_web_address(url)):
        errors.append(problem)
    elif url and len(url) > 2000:
        errors.append(UserError(N_("The web address is too long."), field="url"))
    values["url"] = url
    config: dict[str, str] = {}
    if kind is SourceKind.X_SEARCH:
        query = " ".join((data.query or "").split())
        if not query:
            errors.append(UserError(N_("Write what to search for on X."), field="query"))
        elif len(query) > 512:
            errors.append(UserError(N_("X takes search words of at most %(limit)s characters."),
                                    field="query", limit=512))
        config["query"] = query
    if kind in ACCOUNT_KINDS:
        kept = str(source_config(existing).get("account") or "") if existing else ""
        if not (data.account_id or "").strip() and ":" in kept and existing is not None \
                and existing.kind is kind:
            # A sandbox account named in the settings (the demo's "x:<name>"): the form
            # offers connected accounts only, so leaving the choice empty keeps it.
            config["account"] = kept
            account = None
        else:
            account = _checked_account(session, user, kind, data.account_id, errors)
        if account is not None:
            config["account"] = str(account)  # the key the pollers read (monitor.sources.base)
    values["config"] = json.dumps(config, ensure_ascii=False)
    minutes = data.interval_minutes
    if kind is not SourceKind.MANUAL and (
            minutes is None or not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES):
        errors.append(UserError(N_("Check the source every %(min)s to %(max)s minutes."),
                                field="interval_minutes", min=MIN_INTERVAL_MINUTES,
                                max=MAX_INTERVAL_MINUTES))
    values["interval_seconds"] = (minutes or 1) * 60
    return values, errors


def source_config(source: Source) -> dict[str, str]:
    try:
        found = json.loads(source.config or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def list_sources(session: Session, user: User) -> list[Source]:
    """The sources the user may manage (see may_manage_source)."""
    _require(user)
    found = session.scalars(select(Source).order_by(Source.outlet, Source.name))
    return [source for source in found if may_manage_source(session, user, source)]


def source_kinds_for(user: User) -> list[SourceKind]:
    """The kinds of source the user may add: an association's user only those that read
    through its own accounts."""
    return list(SourceKind) if is_district_user(user) else list(ACCOUNT_KINDS)


def create_source(session: Session, user: User, data: SourceInput,
                  now: datetime | None = None) -> Source:
    _require(user)
    values, errors = _checked_source(session, user, data)
    if errors:
        raise ValidationErrors(errors)
    source = Source(**values, state=SourceState.OK, next_poll_at=now or utcnow(),
                    created_at=now or utcnow())
    session.add(source)
    session.flush()
    record(session, user, "create", "source", source.id, source_organisation(session, source),
           values)
    return source


def update_source(session: Session, user: User, source_id: int, data: SourceInput,
                  now: datetime | None = None) -> Source:
    """Change a source; a new address or query starts afresh (no cached validators, cursor)."""
    source = get_source(session, user, source_id)
    values, errors = _checked_source(session, user, data, source)
    if errors:
        raise ValidationErrors(errors)
    if values["url"] != source.url or values["config"] != source.config \
            or values["kind"] != source.kind:
        source.etag = source.last_modified = source.cursor = None
        if source.state is not SourceState.PAUSED:
            source.next_poll_at = now or utcnow()
    before = {key: getattr(source, key) for key in values}
    for key, value in values.items():
        setattr(source, key, value)
    session.flush()
    record(session, user, "update", "source", source.id, source_organisation(session, source),
           diff(before, values))
    return source


def pause_source(session: Session, user: User, source_id: int) -> bool:
    """Stop polling the source until it is resumed; False if it was paused already."""
    source = get_source(session, user, source_id)
    if source.state is SourceState.PAUSED:
        return False
    source.state = SourceState.PAUSED
    session.flush()
    record(session, user, "pause", "source", source.id, source_organisation(session, source))
    return True


def resume_source(session: Session, user: User, source_id: int,
                  now: datetime | None = None) -> bool:
    """Poll the paused source again, now; its failure count starts over."""
    source = get_source(session, user, source_id)
    if source.state is not SourceState.PAUSED:
        return False
    source.state = SourceState.OK
    source.next_poll_at = now or utcnow()
    source.consecutive_failures = 0
    source.failing_since = None
    source.failure_alerted_at = None
    session.flush()
    record(session, user, "resume", "source", source.id, source_organisation(session, source))
    return True


def source_history(session: Session, source_id: int, limit: int = 50) -> list[SourcePoll]:
    return list(session.scalars(select(SourcePoll).where(SourcePoll.source_id == source_id)
                                .order_by(SourcePoll.at.desc(), SourcePoll.id.desc())
                                .limit(limit)))


def manual_source_outlets(session: Session) -> list[str]:
    """Outlets already known, to suggest when a clipping is entered."""
    names = session.scalars(select(Source.outlet).where(Source.outlet != "").distinct())
    return sorted(set(names), key=str.casefold)


# --- Watchlists ---------------------------------------------------------------------------------


@dataclass
class WatchlistInput:
    name: str
    query: str
    priority: Priority | str = Priority.NORMAL
    active: bool = True


class QueryProblem(UserError):
    """A malformed query, said with where it is: "At character 12: …". ``cause`` is the
    parser's QueryError, whose reason the web layer translates and puts into ``reason``."""

    def __init__(self, cause: Exception, field: str = "query") -> None:
        self.cause = cause
        self.position = int(getattr(cause, "position", 0) or 0)  # 0-based
        super().__init__(N_("At character %(position)s: %(reason)s"), field=field,
                         position=self.position + 1,
                         reason=getattr(cause, "reason", None) or str(cause))


def query_problem(query: str, field: str = "query") -> UserError | None:
    """None if the query is well formed, else what is wrong and where."""
    from monitor.query import QueryError, parse

    if not (query or "").strip():
        return UserError(N_("Write the query: the words that find this issue."), field=field)
    try:
        parse(query)
    except QueryError as exc:
        return QueryProblem(exc, field)
    return None


def list_watchlists(session: Session) -> list[Watchlist]:
    return list(session.scalars(select(Watchlist).order_by(Watchlist.active.desc(),
                                                           Watchlist.name)))


def _checked_watchlist(session: Session, data: WatchlistInput, own_id: int | None
                       ) -> tuple[dict[str, object], list[UserError]]:
    errors: list[UserError] = []
    name = _name(data.name, errors, N_("Give the issue a name."))
    if name:
        taken = session.scalar(select(Watchlist.id).where(
            func.lower(Watchlist.name) == name.lower()))
        if taken is not None and taken != own_id:
            errors.append(UserError(N_("There is already an issue called %(name)s."),
                                    field="name", name=name))
    query = (data.query or "").strip()
    if problem := query_problem(query):
        errors.append(problem)
    try:
        priority = Priority(data.priority)
    except ValueError:
        errors.append(UserError(N_("Choose normal or high priority."), field="priority"))
        priority = Priority.NORMAL
    return {"name": name, "query": query, "priority": priority,
            "active": bool(data.active)}, errors


def create_watchlist(session: Session, user: User, data: WatchlistInput,
                     now: datetime | None = None) -> Watchlist:
    _require_district(user)
    values, errors = _checked_watchlist(session, data, None)
    if errors:
        raise ValidationErrors(errors)
    watchlist = Watchlist(**values, created_at=now or utcnow(), updated_at=now or utcnow())
    session.add(watchlist)
    session.flush()
    record(session, user, "create", "watchlist", watchlist.id, changes=values)
    return watchlist


def update_watchlist(session: Session, user: User, watchlist_id: int, data: WatchlistInput,
                     now: datetime | None = None) -> Watchlist:
    _require_district(user)
    watchlist = session.get(Watchlist, watchlist_id)
    if watchlist is None:
        raise LookupError(watchlist_id)
    values, errors = _checked_watchlist(session, data, watchlist_id)
    if errors:
        raise ValidationErrors(errors)
    before = {key: getattr(watchlist, key) for key in values}
    for key, value in values.items():
        setattr(watchlist, key, value)
    watchlist.updated_at = now or utcnow()
    session.flush()
    record(session, user, "update", "watchlist", watchlist.id, changes=diff(before, values))
    return watchlist


def delete_watchlist(session: Session, user: User, watchlist_id: int) -> str:
    """Remove the issue, its links to mentions and its subscriptions (mentions stay); returns
    the name it had, for the message that says so."""
    _require_district(user)
    watchlist = session.get(Watchlist, watchlist_id)
    if watchlist is None:
        raise LookupError(watchlist_id)
    from monitor.models import MentionWatchlist

    session.query(MentionWatchlist).filter_by(watchlist_id=watchlist_id).delete()
    session.query(AlertSubscription).filter_by(watchlist_id=watchlist_id).delete()
    name = watchlist.name
    session.delete(watchlist)
    session.flush()
    record(session, user, "delete", "watchlist", watchlist_id, changes={"name": name})
    return name


# --- People -----------------------------------------------------------------------------------


@dataclass
class PersonInput:
    name: str
    aliases: str = ""  # one per line
    party: str = "V"
    title: str = ""


def split_aliases(aliases: str) -> list[str]:
    return [" ".join(line.split()) for line in (aliases or "").splitlines() if line.strip()]


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.name)))


def _checked_person(session: Session, data: PersonInput, own_id: int | None
                    ) -> tuple[dict[str, object], list[UserError]]:
    errors: list[UserError] = []
    name = _name(data.name, errors, N_("Give the person's name."))
    if name:
        taken = session.scalar(select(Person.id).where(func.lower(Person.name) == name.lower()))
        if taken is not None and taken != own_id:
            errors.append(UserError(N_("%(name)s is already on the list."), field="name",
                                    name=name))
    aliases = list(dict.fromkeys(a for a in split_aliases(data.aliases) if a != name))
    for alias in aliases:
        if len(alias) < 3:
            errors.append(UserError(N_("%(alias)s is too short to find the person: write at "
                                       "least 3 letters."), field="aliases", alias=alias))
    party = (data.party or "").strip().upper()
    if party not in PARTIES:
        errors.append(UserError(N_("Choose the person's party."), field="party"))
    title = " ".join((data.title or "").split())
    if len(title) > NAME_MAX:
        errors.append(UserError(N_("The title is too long: %(count)s of %(limit)s characters."),
                                field="title", count=len(title), limit=NAME_MAX))
    return {"name": name, "aliases": "\n".join(aliases), "party": party, "title": title}, errors


def create_person(session: Session, user: User, data: PersonInput) -> Person:
    _require_district(user)
    values, errors = _checked_person(session, data, None)
    if errors:
        raise ValidationErrors(errors)
    person = Person(**values)
    session.add(person)
    session.flush()
    record(session, user, "create", "person", person.id, changes=values)
    return person


def update_person(session: Session, user: User, person_id: int, data: PersonInput) -> Person:
    _require_district(user)
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(person_id)
    values, errors = _checked_person(session, data, person_id)
    if errors:
        raise ValidationErrors(errors)
    before = {key: getattr(person, key) for key in values}
    for key, value in values.items():
        setattr(person, key, value)
    session.flush()
    record(session, user, "update", "person", person.id, changes=diff(before, values))
    return person


def delete_person(session: Session, user: User, person_id: int) -> str:
    """Take the person off the list; returns their name, for the message that says so."""
    _require_district(user)
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(person_id)
    name = person.name
    session.delete(person)
    session.flush()
    record(session, user, "delete", "person", person_id, changes={"name": name})
    return name


# --- Alert subscriptions ------------------------------------------------------------------------


@dataclass
class SubscriptionInput:
    watchlist_id: int
    immediate: bool = False
    digest_hour: int | None = None  # Stockholm hour 0–23; None: no daily digest


def subscriptions(session: Session, user: User
                  ) -> list[tuple[Watchlist, AlertSubscription | None]]:
    """Every active issue with the user's subscription to it (None: not subscribed)."""
    _require(user, Action.VIEW_MENTIONS)
    mine = {s.watchlist_id: s for s in session.scalars(
        select(AlertSubscription).where(AlertSubscription.user_id == user.id))}
    return [(w, mine.get(w.id)) for w in list_watchlists(session) if w.active or w.id in mine]


def save_subscriptions(session: Session, user: User, wanted: list[SubscriptionInput]) -> None:
    """Replace the user's settings for the issues named; one without alerts is removed."""
    _require(user, Action.VIEW_MENTIONS)
    errors: list[UserError] = []
    known = set(session.scalars(select(Watchlist.id)))
    for item in wanted:
        if item.watchlist_id not in known:
            errors.append(UserError(N_("That issue no longer exists: reload the page."),
                                    field="watchlist"))
        if item.digest_hour is not None and not 0 <= item.digest_hour <= 23:
            errors.append(UserError(N_("Choose an hour between 0 and 23 for the daily digest."),
                                    field=f"digest_{item.watchlist_id}"))
    if errors:
        raise ValidationErrors(errors)
    mine = {s.watchlist_id: s for s in session.scalars(
        select(AlertSubscription).where(AlertSubscription.user_id == user.id))}
    for item in wanted:
        found = mine.get(item.watchlist_id)
        if not item.immediate and item.digest_hour is None:
            if found is not None:
                session.delete(found)
            continue
        if found is None:
            found = AlertSubscription(user_id=user.id, watchlist_id=item.watchlist_id)
            session.add(found)
        found.immediate = item.immediate
        found.digest_hour = item.digest_hour
    session.flush()

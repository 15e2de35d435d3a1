"""Answering a mention: the composer starts with a quote and the link, and the post that
answers it is linked back, so the log shows what was said in reply and who is on it.

No Flask and no publisher here: web/ opens the composer with `mention_to_answer` and
`response_prefill` and, once the post is saved, calls `link_response` with its id. A mention
that is an X post or a comment on one of our Pages can also be answered where it was said:
`thread_of` says where (web/ hands that to publisher.replies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.auth import Action, can, require
from core.clock import utcnow
from core.users import User
from monitor.admin import source_account
from monitor.highlight import SEPARATOR, document, parse_hits
from monitor.models import Mention, Source, Triage
from monitor.triage import triage


def start_response(session: Session, user: User, mention_id: int) -> Mention:
    """The mention the user is about to answer; if nobody is on it yet, it is assigned to them so
    colleagues see who is answering. NotAllowed unless the user may both handle mentions and
    write posts; LookupError if there is no such mention."""
    require(user, Action.TRIAGE_MENTIONS)
    require(user, Action.COMPOSE)
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise LookupError(mention_id)
    if mention.assigned_to_id is None:
        triage(session, user, mention_id, assignee_id=user.id)
    return mention


def mention_to_answer(session: Session, user: User, raw_id: str) -> Mention | None:
    """The mention the composer was opened to answer (`?mention=<id>`), if there is one and the
    user may handle mentions; otherwise the composer is simply a new post."""
    if not raw_id.isdigit() or not can(user, Action.TRIAGE_MENTIONS):
        return None
    return session.get(Mention, int(raw_id))


def link_response(session: Session, user: User, mention_id: int, post_id: int,
                  now: datetime | None = None) -> None:
    """The post answers the mention; answering something makes it relevant."""
    require(user, Action.TRIAGE_MENTIONS)
    mention = session.get(Mention, mention_id)
    if mention is None:
        return
    mention.response_post_id = post_id
    if mention.triage is Triage.NEW:
        mention.triage = Triage.RELEVANT
    mention.updated_at = now or utcnow()
    session.flush()


QUOTE_MAX = 160


def response_prefill(mention: Mention) -> tuple[str, str | None]:
    """Text and link to start an answer with: a short quote from the mention and its outlet."""
    doc = document(mention.title, mention.text)
    body_start = len(mention.title or "") + len(SEPARATOR)
    spans = [s for s in parse_hits(mention.hits) if s[0] >= body_start and s[1] <= len(doc)]
    quote = ""
    if spans:  # the sentence with the first match in the text
        start, end = spans[0]
        left = max(doc.rfind(". ", body_start, start), doc.rfind("\n", body_start, start))
        left = body_start if left == -1 or left < body_start else left + 1
        right = doc.find(". ", end)
        right = len(doc) if right == -1 else right + 1
        quote = doc[left:right].strip()
    quote = quote or (mention.title or "").strip() or (mention.text or "").strip()
    quote = " ".join(quote.split())
    if len(quote) > QUOTE_MAX:
        cut = quote.rfind(" ", 0, QUOTE_MAX)
        quote = quote[:cut if cut > QUOTE_MAX // 2 else QUOTE_MAX].rstrip(" ,;:") + "…"
    outlet = mention.outlet.strip() if mention.outlet else ""
    text = f"“{quote}”" + (f" ({outlet})" if outlet else "") + "\n\n"
    return text, mention.url


@dataclass(frozen=True)
class Thread:
    """Where a mention was said, to reply there: "x" and the post's id, or "facebook", the
    comment's id and the Page (our account's id) whose post it is under."""

    platform: str
    external_id: str
    owner_account_id: int | None = None


def thread_of(session: Session, mention: Mention) -> Thread | None:
    """The X post or Page comment the mention is, from the sightings that found it (X search:
    "x:<id>"; Page comments: "fb:<id>", read through the source's Page); None for anything
    else, or a comment whose source no longer names its Page."""
    for sighting in mention.sightings:
        kind, _, external_id = sighting.item_key.partition(":")
        if kind == "x" and external_id:
            return Thread("x", external_id)
        if kind == "fb" and external_id and sighting.source_id is not None:
            source = session.get(Source, sighting.source_id)
            owner = source_account(source) if source is not None else None
            if owner is not None:
                return Thread("facebook", external_id, owner)
    return None

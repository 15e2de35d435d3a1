"""Triage: a person marks a mention relevant or not, assigns it to someone, writes a note.

Every change is checked at once and refused with every problem (ValidationErrors with field
names); a role that may not triage gets NotAllowed. KEEP leaves a part unchanged, so one call
serves the form that changes everything and the buttons that change one thing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Action, can, require
from core.clock import utcnow
from core.i18n import N_, UserError, ValidationErrors
from core.users import User
from monitor.models import Mention, Triage


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # triage(): leave this part as it is


def triage(session: Session, user: User, mention_id: int, state: Triage | str | None = None,
           note: str | None | _Keep = KEEP, assignee_id: int | None | _Keep = KEEP,
           now: datetime | None = None) -> Mention:
    """Mark a mention relevant or not, assign it to someone, write a note (any of them)."""
    require(user, Action.TRIAGE_MENTIONS)
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise LookupError(mention_id)
    errors: list[UserError] = []
    if state is not None:
        try:
            state = Triage(state)
        except ValueError:
            errors.append(UserError(N_("Choose relevant, not relevant or new."), field="state"))
    if not isinstance(note, _Keep):
        note = (note or "").strip() or None
        if note and len(note) > 4000:
            errors.append(UserError(N_("The note is too long: %(count)s of %(limit)s characters."),
                                    field="note", count=len(note), limit=4000))
    if not isinstance(assignee_id, _Keep) and assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or not can(assignee, Action.TRIAGE_MENTIONS):
            errors.append(UserError(N_("Assign the mention to someone who may handle mentions."),
                                    field="assignee_id"))
    if errors:
        raise ValidationErrors(errors)
    if isinstance(state, Triage):
        mention.triage = state
    if not isinstance(note, _Keep):
        mention.note = note
    if not isinstance(assignee_id, _Keep):
        mention.assigned_to_id = assignee_id
    mention.updated_at = now or utcnow()
    session.flush()
    return mention


def assignees(session: Session) -> list[User]:
    """Who a mention can be assigned to: active users whose role handles mentions."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    return [u for u in users if can(u, Action.TRIAGE_MENTIONS)]

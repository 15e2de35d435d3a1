"""Passwords, login throttling and what each role may do.

Permissions are decided here, on the server, for every view and action; the UI only hides what a
user may not do.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.users import LoginThrottle, Organisation, OrganisationKind, Role, User

_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed login the same for unknown addresses.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class Action(enum.StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    COMPOSE = "compose"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_USERS = "manage_users"
    VIEW_REPORTS = "view_reports"
    VIEW_MENTIONS = "view_mentions"  # the mention log and one's own alert settings
    TRIAGE_MENTIONS = "triage_mentions"  # relevant / not relevant, assign, note, respond
    MANAGE_MONITORING = "manage_monitoring"  # sources, watchlists, people, clippings
    MANAGE_REPORT_MAIL = "manage_report_mail"  # who gets the monthly report by e-mail, and when
    VIEW_CAMPAIGNS = "view_campaigns"  # campaigns and their coverage (narrowed to one's targets)
    MANAGE_CAMPAIGNS = "manage_campaigns"  # create campaigns, roll them out, link posts to them


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_DASHBOARD: frozenset(Role),
    Action.VIEW_REPORTS: frozenset(Role),
    Action.COMPOSE: frozenset({Role.ADMIN, Role.COMMS, Role.CAMPAIGN_LEAD}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMIN, Role.COMMS}),
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.VIEW_MENTIONS: frozenset(Role),
    Action.TRIAGE_MENTIONS: frozenset({Role.ADMIN, Role.COMMS, Role.CAMPAIGN_LEAD}),
    Action.MANAGE_MONITORING: frozenset({Role.ADMIN, Role.COMMS}),
    Action.MANAGE_REPORT_MAIL: frozenset({Role.ADMIN}),
    Action.VIEW_CAMPAIGNS: frozenset(Role),
    Action.MANAGE_CAMPAIGNS: frozenset({Role.ADMIN, Role.CAMPAIGN_LEAD}),
}


class AuthError(ValueError):
    """A login or user change that cannot go through; the message is safe to show."""


class LoginLocked(AuthError):
    def __init__(self, minutes: int) -> None:
        super().__init__(f"locked for {minutes} minutes")
        self.minutes = minutes


class NotAllowed(PermissionError):
    """The user's role or organisation does not allow this action. Raised by the domain service
    that does the action; the web layer answers it with 403 in one place (web/errors.py)."""


def can(user: User, action: Action) -> bool:
    return user.active and user.role in PERMISSIONS[action]


def require(user: User, action: Action, organisation_id: int | None = None) -> None:
    """NotAllowed unless the user's role may do `action` (and, given an organisation, it is in
    the user's scope): the first line of every domain service that acts for a person."""
    if not can(user, action):
        raise NotAllowed(f"role {user.role.value} may not {action.value}")
    if organisation_id is not None and not in_scope(user, organisation_id):
        raise NotAllowed("organisation not in your scope")


def in_scope(user: User, organisation_id: int) -> bool:
    """District users reach every organisation; an association's users only their own."""
    if user.organisation.kind is OrganisationKind.DISTRICT:
        return True
    return user.organisation_id == organisation_id


def scope_condition(user: User, organisation_id: ColumnElement[int]) -> ColumnElement[bool]:
    """`in_scope` as SQL, for lists that must be narrowed before their LIMIT, not after."""
    if user.organisation.kind is OrganisationKind.DISTRICT:
        return true()
    return organisation_id == user.organisation_id


def organisations_for(session: Session, user: User) -> list[Organisation]:
    """The organisations the user may act for (the district first, then by name): what a form
    offers, so a choice outside the user's scope is never shown, let alone accepted."""
    everyone = session.scalars(
        select(Organisation).order_by(Organisation.kind.desc(), Organisation.name))
    return [organisation for organisation in everyone if in_scope(user, organisation.id)]


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, email: str, password: str, *, max_failures: int = 5, lock_minutes: int = 15
) -> User:
    """The user for these credentials, or AuthError. Repeated failures lock the address."""
    key = email.strip().lower()
    now = utcnow()
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        remaining = int((throttle.locked_until - now).total_seconds() // 60) + 1
        raise LoginLocked(remaining)
    user = session.scalar(select(User).where(User.email == key))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password)
    if ok and user is not None and user.active:
        if throttle:
            session.delete(throttle)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0)
        session.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures >= max_failures:
        throttle.locked_until = now + timedelta(minutes=lock_minutes)
        throttle.failures = 0
    session.flush()
    raise AuthError("wrong e-mail address or password")


def district(session: Session) -> Organisation:
    """The district at the root of the tree, created on first use."""
    is_district = Organisation.kind == OrganisationKind.DISTRICT
    found = session.scalar(select(Organisation).where(is_district))
    if found is None:
        found = Organisation(name="Distriktet", kind=OrganisationKind.DISTRICT)
        session.add(found)
        session.flush()
    return found


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    organisation: Organisation | None = None,
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise AuthError("not a valid e-mail address")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AuthError(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        organisation=organisation or district(session),
    )
    session.add(user)
    session.flush()
    return user


class UserAdmin(NamedTuple):
    """What the user administration shows: every user, and the organisations to put one in."""

    users: list[User]
    organisations: list[Organisation]


def user_admin(session: Session, by: User) -> UserAdmin:
    """The users and organisations, for an administrator only (NotAllowed otherwise)."""
    require(by, Action.MANAGE_USERS)
    return UserAdmin(list(session.scalars(select(User).order_by(User.name))),
                     list(session.scalars(select(Organisation).order_by(Organisation.name))))


def add_user(session: Session, by: User, *, email: str, name: str, password: str, role: Role,
             organisation_id: int | None) -> User:
    """An administrator adds a user. The role check is here, with the action, so every way in
    (the admin page, a future API) is refused alike; `create_user` itself stays unchecked for
    the CLI and first-run set-up, where there is no acting user yet."""
    require(by, Action.MANAGE_USERS)
    organisation = (session.get(Organisation, organisation_id)
                    if organisation_id is not None else None)
    return create_user(session, email=email, name=name, password=password, role=role,
                       organisation=organisation)

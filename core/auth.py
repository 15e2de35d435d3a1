"""Passwords, login throttling and what each role may do.

Permissions are decided here, on the server, for every view and action; the UI only hides what a
user may not do.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, case, func, select, true, update
from sqlalchemy.orm import Session

from core.audit import record
from core.clock import utcnow
from core.db import dialect_insert
from core.i18n import N_, UserError, ValidationErrors
from core.notifications import Notification, notify
from core.users import (
    LoginThrottle,
    Organisation,
    OrganisationKind,
    PasswordReset,
    Role,
    User,
    UserEvent,
)

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
    VIEW_EVENTS = "view_events"  # the events, public and members-only (every role is a member)
    # create, change, announce and cancel events: the district's users any event, an
    # association's users only events their association organises (campaigns.events)
    MANAGE_EVENTS = "manage_events"
    # Approve, send back or comment on posts waiting for approval (publisher.approval: only the
    # district's users, and never one's own post).
    APPROVE_POSTS = "approve_posts"
    SET_APPROVAL_RULES = "set_approval_rules"  # which accounts and associations need approval
    VIEW_AUDIT = "view_audit"  # the audit log (and only the district's administrators)


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
    Action.VIEW_EVENTS: frozenset(Role),
    Action.MANAGE_EVENTS: frozenset({Role.ADMIN, Role.CAMPAIGN_LEAD, Role.COMMS}),
    Action.APPROVE_POSTS: frozenset({Role.ADMIN, Role.CAMPAIGN_LEAD, Role.COMMS}),
    Action.SET_APPROVAL_RULES: frozenset({Role.ADMIN}),
    Action.VIEW_AUDIT: frozenset({Role.ADMIN}),
}


class AuthError(UserError):
    """A login or user change that cannot go through: a msgid (N_) safe to show, translated by
    the web; `str()` is the English text (the CLI prints it)."""


class LoginLocked(AuthError):
    """This address waits after repeated wrong passwords (see `authenticate`)."""

    def __init__(self, minutes: int) -> None:
        super().__init__(N_("Too many failed attempts for this address."))
        self.minutes = minutes


class ClientThrottled(AuthError):
    """This client (IP address) made too many failed logins, whatever the addresses."""

    def __init__(self, minutes: int) -> None:
        super().__init__(N_("Too many failed logins from your connection."))
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


MAX_PASSWORD_LENGTH = 1000
MIN_DISTINCT_CHARACTERS = 5
TOO_SHORT = N_("A password needs at least %(num)s characters.")
TOO_LONG = N_("A password can have at most %(num)s characters.")
TOO_SIMPLE = N_("Choose a password that is not your e-mail address and has more than a few "
                "different characters.")


def password_problem(password: str, email: str = "") -> AuthError | None:
    """Why this password will not do, or None. The rule is length first (NIST 800-63B: length
    beats composition rules), plus refusing the obvious: the address itself, `aaaaaaaaaa`."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return AuthError(TOO_SHORT, "password", num=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return AuthError(TOO_LONG, "password", num=MAX_PASSWORD_LENGTH)
    if (email and password.strip().lower() == email.strip().lower()) \
            or len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return AuthError(TOO_SIMPLE, "password")
    return None


def hash_password(password: str, email: str = "") -> str:
    problem = password_problem(password, email)
    if problem is not None:
        raise problem
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LoginPolicy:
    """The throttling settings (core.settings: login_max_failures, login_lock_minutes,
    login_client_max_failures)."""

    max_failures: int = 5
    lock_minutes: int = 15
    client_max_failures: int = 20
    first_delay_seconds: int = 30


def _minutes_until(moment: datetime, now: datetime) -> int:
    return int((moment - now).total_seconds() // 60) + 1


def _count_failure(session: Session, key: str, now: datetime,
                   forget_after: timedelta) -> LoginThrottle:
    """Count one failure under `key` in one statement each (insert if missing, then add one,
    or start again at one after `forget_after` of quiet): requests racing each other, in any
    number of processes, neither fail on the insert nor lose a count."""
    session.execute(dialect_insert(session)(LoginThrottle)
                    .values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"]))
    stale = LoginThrottle.last_failure_at < now - forget_after
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
        failures=case((stale, 1), else_=LoginThrottle.failures + 1), last_failure_at=now))
    row = session.get(LoginThrottle, key)
    assert row is not None
    session.refresh(row)
    return row


def _count_client_failure(session: Session, client: str, now: datetime,
                          policy: LoginPolicy) -> None:
    if not client:
        return
    window = timedelta(minutes=policy.lock_minutes)
    row = _count_failure(session, f"client:{client}"[:254], now, window)
    if row.failures >= policy.client_max_failures:
        row.locked_until = now + window
        row.failures = 0


def authenticate(session: Session, email: str, password: str, *, client: str = "",
                 device: tuple[int, str] | None = None,
                 policy: LoginPolicy | None = None) -> User:
    """The user for these credentials, or AuthError (LoginLocked, ClientThrottled).

    Two brakes, both kept in `login_throttles` so every web process shares them:

    * Per client (`client`, the IP address): `client_max_failures` failed logins within
      `lock_minutes`, whatever the addresses, pause that client for `lock_minutes`
      (ClientThrottled; the web answers 429). This stops guessing spread over many addresses.
      Many people behind one address (an office, a proxy) share the pause, so a known device
      (below) passes it too.
    * Per address: after `max_failures` wrong passwords, the address waits before its password
      is checked again, 30 s doubling with each further failure up to `lock_minutes`
      (LoginLocked). The wait is a delay, not a lock-out: it is skipped for a client that shows
      the signed device cookie this user received on an earlier successful login (`device`:
      the user's id and `device_fingerprint`, whose signature the web checks), so a
      stranger's wrong passwords never keep the owner out of the browsers they already use;
      from a new browser the owner waits at most `lock_minutes`, or resets the password by
      e-mail. A right password clears the count.

    Unknown addresses are counted alike and verified against a dummy hash, so neither the
    answer nor its time says whether an address exists.
    """
    policy = policy or LoginPolicy()
    key = email.strip().lower().replace("\x00", "")
    now = utcnow()
    user = session.scalar(select(User).where(User.email == key)) if key else None
    trusted = user is not None and device == (user.id, device_fingerprint(user))
    client_row = session.get(LoginThrottle, f"client:{client}"[:254]) if client else None
    if client_row and client_row.locked_until and client_row.locked_until > now and not trusted:
        raise ClientThrottled(_minutes_until(client_row.locked_until, now))
    account_key = f"account:{key}"[:254]
    account = session.get(LoginThrottle, account_key)
    if account and account.locked_until and account.locked_until > now and not trusted:
        _count_client_failure(session, client, now, policy)
        session.flush()
        raise LoginLocked(_minutes_until(account.locked_until, now))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password)
    if ok and user is not None and user.active:
        if account:
            session.delete(account)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user
    _count_client_failure(session, client, now, policy)
    account = _count_failure(session, account_key, now, timedelta(days=1))
    beyond = account.failures - policy.max_failures
    if beyond >= 0:
        seconds = min(policy.first_delay_seconds * 2 ** min(beyond, 20), policy.lock_minutes * 60)
        account.locked_until = now + timedelta(seconds=seconds)
    session.flush()
    raise AuthError(N_("Wrong e-mail address or password."))


def device_fingerprint(user: User) -> str:
    """What a device cookie binds to besides the user id: a digest of the password hash, so a
    new password (or a reset) makes every earlier device cookie worthless."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def end_sessions(session: Session, user: User) -> None:
    """End every session of this user, on every device (see User.session_version)."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_version=User.session_version + 1))
    session.refresh(user, ["session_version"])


def _record(session: Session, user: User, actor: User | None, change: str) -> None:
    session.add(UserEvent(user_id=user.id, actor_id=actor.id if actor else None, change=change))


def _set_password(session: Session, user: User, password: str, field: str) -> None:
    problem = password_problem(password, user.email)
    if problem is not None:
        raise ValidationErrors([UserError(problem.message, field, **problem.params)])
    user.password_hash = _hasher.hash(password)
    user.must_change_password = False
    throttle = session.get(LoginThrottle, f"account:{user.email}"[:254])
    if throttle is not None:
        session.delete(throttle)
    session.flush()
    end_sessions(session, user)


def change_password(session: Session, user: User, *, current: str, new: str,
                    repeated: str) -> User:
    """The user chooses a new password (knowing the current one); every other session of theirs
    ends (the web logs this one in again under the new session version)."""
    user = session.get(User, user.id) or user
    errors = []
    if not _verify(user.password_hash, current):
        errors.append(UserError(N_("The current password is wrong."), "current_password"))
    elif new == current:
        errors.append(UserError(N_("Choose a new password, not the one you have."),
                                "new_password"))
    if new != repeated:
        errors.append(UserError(N_("The two new passwords are not the same."), "repeated"))
    if errors:
        raise ValidationErrors(errors)
    _set_password(session, user, new, "new_password")
    _record(session, user, user, "changed their password")
    record(session, user, "change_password", "user", user.id, user.organisation_id)
    return user


RESET_KIND = "password_reset"
RESET_SUBJECT = N_("Set a new password for Megafon")
RESET_BODY = N_("Someone, probably you, asked for a new Megafon password for this address. The "
                "link below works once, for %(minutes)s minutes. If it was not you, ignore this "
                "message: your password stays as it is.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_OPEN_RESETS = 3


def request_password_reset(session: Session, email: str, *, minutes: int = 60,
                           client: str = "", policy: LoginPolicy | None = None) -> None:
    """E-mail a single-use reset link if an active user has this address; otherwise do nothing.
    The caller answers the same either way, so the form does not reveal who has an account.
    The e-mail is a notification (core.mail's outbox sends it); only the token's hash is kept
    in password_resets. Each request counts against the client like a failed login
    (ValidationErrors holding ClientThrottled when paused), and a user has at most
    MAX_OPEN_RESETS links open at once, so the form cannot be used to flood an inbox."""
    policy = policy or LoginPolicy()
    now = utcnow()
    client_row = session.get(LoginThrottle, f"client:{client}"[:254]) if client else None
    if client_row and client_row.locked_until and client_row.locked_until > now:
        raise ValidationErrors([ClientThrottled(_minutes_until(client_row.locked_until, now))])
    _count_client_failure(session, client, now, policy)
    key = email.strip().lower().replace("\x00", "")
    user = session.scalar(select(User).where(User.email == key)) if key else None
    if user is None or not user.active:
        return
    open_links = session.scalar(select(func.count(PasswordReset.id)).where(
        PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
        PasswordReset.expires_at > now))
    if open_links and open_links >= MAX_OPEN_RESETS:
        return
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=user.id, token_hash=_token_hash(token), created_at=now,
                              expires_at=now + timedelta(minutes=minutes)))
    notify(session, [user], RESET_KIND, RESET_SUBJECT, RESET_BODY,
           link=f"/reset/{token}", minutes=minutes)


EXPIRED = N_("This link has expired or was used already. Ask for a new one.")


def reset_is_usable(session: Session, token: str) -> bool:
    found = session.scalar(select(PasswordReset.id).where(
        PasswordReset.token_hash == _token_hash(token), PasswordReset.used_at.is_(None),
        PasswordReset.expires_at > utcnow()))
    return found is not None


def reset_password(session: Session, token: str, *, new: str, repeated: str) -> User:
    """Set a new password with an e-mailed link: once, before it expires. Every session of the
    user ends; a forced password change is thereby done."""
    if new != repeated:
        raise ValidationErrors([UserError(N_("The two new passwords are not the same."),
                                          "repeated")])
    now = utcnow()
    reset = session.scalar(select(PasswordReset).where(
        PasswordReset.token_hash == _token_hash(token)))
    user = session.get(User, reset.user_id) if reset else None
    if reset is None or user is None or not user.active:
        raise ValidationErrors([UserError(EXPIRED)])
    problem = password_problem(new, user.email)
    if problem is not None:
        raise ValidationErrors([UserError(problem.message, "new_password", **problem.params)])
    used = session.execute(update(PasswordReset).where(
        PasswordReset.id == reset.id, PasswordReset.used_at.is_(None),
        PasswordReset.expires_at > now).values(used_at=now))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationErrors([UserError(EXPIRED)])
    _set_password(session, user, new, "new_password")
    # The links live on in the outbox's notifications (the e-mail's text): once one is used,
    # none of them needs to be kept, nor shown in the app.
    session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.kind == RESET_KIND)
        .values(link=None, read_at=func.coalesce(Notification.read_at, now)))
    session.execute(update(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)).values(used_at=now))
    _record(session, user, None, "reset their password by e-mail")
    record(session, user, "reset_password", "user", user.id, user.organisation_id)
    return user


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
    must_change_password: bool = False,
) -> User:
    """A user, unchecked (the CLI and first start; `add_user` is the administrator's way)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or "\x00" in email:
        raise AuthError(N_("Enter a valid e-mail address."), "email")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AuthError(N_("A user with the e-mail address %(email)s already exists."), "email",
                        email=email)
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password, email),
        role=role,
        organisation=organisation or district(session),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


class UserAdmin(NamedTuple):
    """What the user administration shows: every user, and the organisations to put one in
    (the district first: the new-user form's default)."""

    users: list[User]
    organisations: list[Organisation]


def user_admin(session: Session, by: User) -> UserAdmin:
    """The users and organisations in the administrator's scope (an association's
    administrator: their association's), for an administrator only (NotAllowed otherwise)."""
    require(by, Action.MANAGE_USERS)
    users = session.scalars(select(User).where(scope_condition(by, User.organisation_id))
                            .order_by(User.name))
    return UserAdmin(list(users), organisations_for(session, by))


CONFIRM_ADMIN = N_("An administrator may do everything, in every organisation: tick the box to "
                   "confirm.")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or "\x00" in name or len(name) > 200:
        raise ValidationErrors([UserError(N_("Enter a name (at most 200 characters)."), "name")])
    return name


def _organisation(session: Session, organisation_id: int | None) -> Organisation:
    """The chosen organisation; none chosen means the district."""
    if organisation_id is None:
        return district(session)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise ValidationErrors([UserError(N_("Choose an organisation."), "organisation_id")])
    return organisation


def add_user(session: Session, by: User, *, email: str, name: str, password: str, role: Role,
             organisation_id: int | None, confirm_admin: bool = False) -> User:
    """An administrator adds a user. The role check is here, with the action, so every way in
    (the admin page, a future API) is refused alike; `create_user` itself stays unchecked for
    the CLI and first-run set-up, where there is no acting user yet. Making someone an
    administrator needs `confirm_admin`: a slip of the role menu must not give all power."""
    require(by, Action.MANAGE_USERS)
    name = _check_name(name)
    organisation = _organisation(session, organisation_id)
    require(by, Action.MANAGE_USERS, organisation.id)
    if role is Role.ADMIN and not confirm_admin:
        raise ValidationErrors([UserError(CONFIRM_ADMIN, "confirm_admin")])
    try:
        user = create_user(session, email=email, name=name, password=password, role=role,
                           organisation=organisation)
    except AuthError as exc:
        raise ValidationErrors([exc]) from None
    _record(session, user, by, f"created as {role.value} of {organisation.name}")
    record(session, by, "create", "user", user.id, organisation.id,
           {"name": user.name, "email": user.email, "role": role, "active": True})
    return user


class UserDetail(NamedTuple):
    user: User
    events: list[UserEvent]
    organisations: list[Organisation]


def user_detail(session: Session, by: User, user_id: int) -> UserDetail:
    """One user for the administrator's edit page, with the account's history (newest first)."""
    require(by, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None or not in_scope(by, user.organisation_id):
        raise LookupError(user_id)  # another association's user is not shown, as if absent
    events = list(session.scalars(select(UserEvent).where(UserEvent.user_id == user_id)
                                  .order_by(UserEvent.at.desc(), UserEvent.id.desc())))
    return UserDetail(user, events, organisations_for(session, by))


def update_user(session: Session, by: User, user_id: int, *, name: str, role: Role,
                organisation_id: int | None, active: bool, must_change_password: bool,
                confirm_admin: bool = False) -> User:
    """An administrator changes a user: name, role, organisation, switched on or off, and
    whether they must choose a new password at their next login. Switching someone off ends
    their sessions at once; each change is written to the account's history. An administrator
    cannot demote or switch off themselves (someone must be left to undo it). Like every
    service, this one keeps to the administrator's scope: an association's administrator
    manages that association's users only."""
    require(by, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None or not in_scope(by, user.organisation_id):
        raise LookupError(user_id)
    name = _check_name(name)
    organisation = _organisation(session, organisation_id)
    require(by, Action.MANAGE_USERS, organisation.id)
    if user.id == by.id and (role is not Role.ADMIN or not active):
        raise ValidationErrors([UserError(
            N_("You cannot take away your own administrator role or switch yourself off."),
            "role")])
    if role is Role.ADMIN and user.role is not Role.ADMIN and not confirm_admin:
        raise ValidationErrors([UserError(CONFIRM_ADMIN, "confirm_admin")])
    changes = []
    diff = {label: [getattr(user, key), new] for label, key, new in (
        ("name", "name", name), ("role", "role", role),
        ("organisation_id", "organisation_id", organisation.id), ("active", "active", active),
        ("reset_at_next_login", "must_change_password", must_change_password))  # no "password":
            if getattr(user, key) != new}  # core.audit drops keys that name a secret
    if name != user.name:
        changes.append(f"name: {user.name} → {name}")
        user.name = name
    if role is not user.role:
        changes.append(f"role: {user.role.value} → {role.value}")
        user.role = role
    if organisation.id != user.organisation_id:
        changes.append(f"organisation: {user.organisation.name} → {organisation.name}")
        user.organisation = organisation
    if must_change_password != user.must_change_password:
        changes.append("must choose a new password at next login" if must_change_password
                       else "no longer asked to choose a new password")
        user.must_change_password = must_change_password
    if active != user.active:
        changes.append("switched on" if active else "switched off")
        user.active = active
    session.flush()
    if not active:
        end_sessions(session, user)
    for change in changes:
        _record(session, user, by, change)
    if diff:
        record(session, by, "update", "user", user.id, organisation.id, diff)
    session.flush()
    return user

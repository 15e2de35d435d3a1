"""Connecting X users and Facebook Pages: verified against the platform, sealed at rest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record
from core.auth import Action, NotAllowed, in_scope, require
from core.clock import utcnow
from core.crypto import CredentialBox
from core.i18n import N_, UserError, ValidationErrors
from core.users import Organisation, User
from publisher.adapters.base import PlatformError
from publisher.deliveries import cancel_waiting, release_account
from publisher.models import Account, CredentialStatus, Platform
from publisher.platforms import Platforms

CREDENTIAL_FIELDS: dict[Platform, tuple[str, ...]] = {
    Platform.X: ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
    Platform.FACEBOOK: ("page_id", "page_access_token"),
}


def visible_accounts(session: Session, user: User, *, active_only: bool = True,
                     platform: Platform | None = None) -> list[Account]:
    """The accounts in the user's scope (of one platform if given): all that a page lists or a
    form offers them."""
    query = select(Account).order_by(Account.platform, Account.name)
    if active_only:
        query = query.where(Account.active.is_(True))
    if platform is not None:
        query = query.where(Account.platform == platform)
    return [a for a in session.scalars(query) if in_scope(user, a.organisation_id)]


def get_account_for(session: Session, user: User, account_id: int) -> Account:
    """The account, if it is in the user's scope; NotAllowed otherwise (or if there is none)."""
    account = session.get(Account, account_id)
    if account is None or not in_scope(user, account.organisation_id):
        raise NotAllowed("account not in your organisation")
    return account


def connect_account(
    session: Session,
    *,
    box: CredentialBox,
    platforms: Platforms,
    user: User,
    platform: Platform,
    name: str,
    organisation_id: int,
    credentials: dict[str, str],
) -> Account:
    """Verify the credentials with the platform, then store the account; nothing half-saved."""
    require(user, Action.MANAGE_ACCOUNTS, organisation_id)
    if session.get(Organisation, organisation_id) is None:
        raise NotAllowed("no such organisation")
    creds = {k: (credentials.get(k) or "").strip() for k in CREDENTIAL_FIELDS[platform]}
    errors = [UserError(N_("This field is required."), field=k) for k, v in creds.items() if not v]
    if not name.strip():
        errors.append(UserError(N_("Give the account a name."), field="name"))
    if errors:
        raise ValidationErrors(errors)
    try:
        identity = platforms.adapter(platform).verify(creds)
    except PlatformError as exc:
        raise ValidationErrors([UserError(
            N_("The platform did not accept these credentials: %(reason)s"), reason=exc.message
        )]) from None
    if platform is Platform.X:
        creds["username"] = identity.handle
    existing = session.scalar(select(Account).where(
        Account.platform == platform, Account.external_id == identity.external_id))
    if existing is not None:
        if existing.active and existing.credentials_status is CredentialStatus.OK:
            raise ValidationErrors([UserError(
                N_("This account is already connected as “%(name)s”."), name=existing.name)])
        if not in_scope(user, existing.organisation_id):
            raise NotAllowed("account belongs to another organisation")
        return _reconnect(session, box, user, existing, creds, identity.handle)
    account = Account(
        platform=platform, name=name.strip(), handle=identity.handle,
        external_id=identity.external_id, organisation_id=organisation_id,
        credentials_sealed=box.seal(creds), last_verified_at=utcnow(), created_by_id=user.id,
    )
    session.add(account)
    session.flush()
    record(session, user, "connect", "account", account.id, organisation_id,
           {"platform": platform, "name": account.name, "handle": account.handle})
    return account


def _reconnect(session: Session, box: CredentialBox, user: User, account: Account,
               creds: dict[str, str], handle: str) -> Account:
    """New credentials for a known account: its held posts go out again."""
    account.credentials_sealed = box.seal(creds)
    account.handle = handle
    account.active = True
    account.credentials_status = CredentialStatus.OK
    account.credentials_problem = None
    account.credentials_expire_at = None
    account.last_verified_at = utcnow()
    session.flush()
    release_account(session, account.id, user.name)
    record(session, user, "reconnect", "account", account.id, account.organisation_id,
           {"platform": account.platform, "name": account.name, "handle": handle})
    return account


def disconnect_account(session: Session, user: User, account_id: int) -> Account:
    """Take the account out of use; whatever still waits for it is cancelled."""
    require(user, Action.MANAGE_ACCOUNTS)
    account = get_account_for(session, user, account_id)
    account.active = False
    cancelled = cancel_waiting(session, account.id, f"{user.name} (account disconnected)")
    record(session, user, "disconnect", "account", account.id, account.organisation_id,
           {"name": account.name, "cancelled_deliveries": len(cancelled)})
    return account

"""The daily token check: find credentials that stopped working, or soon will, before a post
fails on them.

Each active account is checked once a day through its adapter's `check_credentials`.
`credentials_checked_at` is both the record and the claim: one guarded UPDATE sets it to now for
the accounts a worker takes, so two workers never check the same account; a check that could not
reach the platform is due again an hour later.

- broken: `deliveries.hold_account` marks the account and holds its queued deliveries with the
  platform's reason (the accounts page shows it; reconnecting releases them); the comms team and
  the held posts' authors are notified (in the app and by e-mail) when it becomes broken;
- expiring within a week: a warning with the date, and the comms team is notified when it starts;
  deliveries keep going out;
- fine: the warning is cleared, and if the account had been broken its held deliveries go back
  to the queue (`deliveries.release_account`). Nothing else is ever released here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from core.claims import claim
from core.clock import utcnow
from core.crypto import CredentialBox
from core.db import Database
from publisher.adapters.base import CredentialCheck, CredentialState, PlatformError
from publisher.deliveries import hold_account, release_account
from publisher.models import Account, CredentialStatus
from publisher.notify import notify_account_problem
from publisher.platforms import Platforms

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=24)
RETRY_AFTER = timedelta(hours=1)
CHECKED_BY = "the daily token check"


@dataclass(frozen=True)
class CheckOutcome:
    account_id: int
    state: CredentialState | None  # None: the platform could not be asked; retried later
    reason: str = ""
    held: tuple[int, ...] = ()
    released: tuple[int, ...] = ()


def claim_due_checks(db: Database, *, limit: int = 50, now: datetime | None = None) -> list[int]:
    """Take up to `limit` active accounts not checked in the last CHECK_EVERY. The claim has no
    lease of its own: `credentials_checked_at` is set to `now`, which keeps the account from
    others for a day, and a check that could not finish makes it due again after RETRY_AFTER
    (both on the application's clock: a few minutes of drift only move a daily check)."""
    now = now or utcnow()
    with db.session() as session:
        return claim(session, Account.id,
                     where=[Account.active.is_(True),
                            or_(Account.credentials_checked_at.is_(None),
                                Account.credentials_checked_at <= now - CHECK_EVERY)],
                     order_by=[Account.id], limit=limit, now=now,
                     values={"credentials_checked_at": now})


def check_accounts(db: Database, box: CredentialBox, platforms: Platforms,
                   now: datetime | None = None, *, limit: int = 50) -> list[CheckOutcome]:
    """Check every account that is due (up to `limit`) and act on the answers."""
    now = now or utcnow()
    return [check_account(db, box, platforms, account_id, now)
            for account_id in claim_due_checks(db, limit=limit, now=now)]


def check_account(db: Database, box: CredentialBox, platforms: Platforms, account_id: int,
                  now: datetime) -> CheckOutcome:
    """Ask the platform about one account already claimed (credentials_checked_at = now)."""
    with db.session() as session:
        account = session.get(Account, account_id)
        if account is None:
            return CheckOutcome(account_id, None, "no such account")
        platform, sealed = account.platform, account.credentials_sealed
        handle, external_id = account.handle, account.external_id
    try:
        credentials = box.open(sealed)
        credentials.setdefault("username", handle)
        credentials.setdefault("user_id", external_id)
        check = platforms.adapter(platform).check_credentials(credentials)
    except PlatformError as exc:
        log.info("account %s: token check could not reach the platform: %s", account_id,
                 exc.message)
        _retry_later(db, account_id, now)
        return CheckOutcome(account_id, None, exc.message)
    except Exception as exc:
        log.exception("account %s: token check failed", account_id)
        _retry_later(db, account_id, now)
        return CheckOutcome(account_id, None, f"internal error: {type(exc).__name__}")
    return _apply(db, account_id, sealed, check, now)


def _apply(db: Database, account_id: int, sealed: str, check: CredentialCheck,
           now: datetime) -> CheckOutcome:
    with db.session() as session:
        current = session.execute(
            select(Account.credentials_sealed, Account.credentials_status)
            .where(Account.id == account_id).with_for_update()).one_or_none()
        if current is None or current.credentials_sealed != sealed:
            # Reconnected with new credentials while we were asking: this answer is stale.
            return CheckOutcome(account_id, None, "credentials changed during the check")
        was = current.credentials_status
        if check.state is CredentialState.BROKEN:
            held = hold_account(session, account_id, check.reason)
            session.execute(update(Account).where(Account.id == account_id)
                            .values(credentials_expire_at=check.expires_at))
            if was is not CredentialStatus.BROKEN:  # told once, not every day it stays broken
                notify_account_problem(session, account_id, held)
            log.warning("account %s: credentials refused (%s); %d deliveries held", account_id,
                        check.reason, len(held))
            return CheckOutcome(account_id, check.state, check.reason, held=tuple(held))
        status = (CredentialStatus.EXPIRING if check.state is CredentialState.EXPIRING
                  else CredentialStatus.OK)
        moved = session.execute(
            update(Account).where(Account.id == account_id, Account.credentials_status == was)
            .values(credentials_status=status, credentials_problem=None,
                    credentials_expire_at=check.expires_at, last_verified_at=now)
            .execution_options(synchronize_session=False)).rowcount
        released: list[int] = []
        if moved and status is CredentialStatus.EXPIRING and was is not status:
            notify_account_problem(session, account_id)
        if moved and was is CredentialStatus.BROKEN:
            released = release_account(session, account_id, CHECKED_BY)
            log.info("account %s: credentials work again; %d deliveries released", account_id,
                     len(released))
        return CheckOutcome(account_id, check.state, released=tuple(released))


def _retry_later(db: Database, account_id: int, now: datetime) -> None:
    """Due again after RETRY_AFTER instead of a day (only while the claim is still ours)."""
    with db.session() as session:
        session.execute(update(Account).where(Account.id == account_id,
                                              Account.credentials_checked_at == now)
                        .values(credentials_checked_at=now - CHECK_EVERY + RETRY_AFTER))

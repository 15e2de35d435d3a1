"""Publishing what is due: claim in the database, call the platform outside any transaction,
record the outcome with a guarded transition."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from core.clock import utcnow
from core.crypto import CredentialBox
from core.db import Database
from publisher.adapters.base import Content, ErrorKind, PlatformError
from publisher.deliveries import claim_due, transition
from publisher.models import Delivery, DeliveryState
from publisher.platforms import Platforms

log = logging.getLogger(__name__)
S = DeliveryState

MAX_ATTEMPTS = 5


class Dispatcher:
    def __init__(self, db: Database, platforms: Platforms, box: CredentialBox, worker_id: str,
                 *, batch_size: int = 20, lease_seconds: int = 120) -> None:
        self.db = db
        self.platforms = platforms
        self.box = box
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds

    def run_once(self) -> int:
        """Publish every delivery due now that this worker can claim; returns how many it tried."""
        claimed = claim_due(self.db, self.worker_id, limit=self.batch_size,
                            lease_seconds=self.lease_seconds)
        for delivery_id in claimed:
            self.publish(delivery_id)
        return len(claimed)

    def publish(self, delivery_id: int) -> None:
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.claimed_by != self.worker_id:
                return
            account = delivery.account
            credentials = self.box.open(account.credentials_sealed)
            credentials.setdefault("username", account.handle)
            content = Content(text=delivery.post.text, link=delivery.post.link)
            platform = account.platform
            attempts = delivery.attempts
        adapter = self.platforms.adapter(platform)
        try:
            published = adapter.publish(credentials, content)
        except PlatformError as exc:
            self._record_failure(delivery_id, exc, attempts)
            return
        except Exception as exc:  # a bug must not leave the delivery silently stuck
            log.exception("delivery %s: unexpected error", delivery_id)
            exc = PlatformError(ErrorKind.UNKNOWN, message=f"internal error: {type(exc).__name__}",
                                outcome_unknown=True)
            self._record_failure(delivery_id, exc, attempts)
            return
        with self.db.session() as session:
            moved = transition(
                session, delivery_id, S.SENDING, S.PUBLISHED, holder=self.worker_id,
                detail=f"published as {published.external_id}",
                external_id=published.external_id, external_url=published.url,
                published_at=utcnow(), error_kind=None, error_code=None, error_message=None,
                lease_expires_at=None,
            )
        if not moved:
            log.warning("delivery %s published but its claim was lost", delivery_id)

    def _record_failure(self, delivery_id: int, exc: PlatformError, attempts: int) -> None:
        retry = (not exc.kind.permanent and not exc.outcome_unknown and attempts < MAX_ATTEMPTS)
        with self.db.session() as session:
            if retry:
                delay = exc.retry_at - utcnow() if exc.retry_at else timedelta(
                    seconds=min(300, 10 * 2 ** attempts) * random.uniform(0.8, 1.2))
                transition(session, delivery_id, S.SENDING, S.SCHEDULED, holder=self.worker_id,
                           detail=f"will retry: {exc.message}",
                           due_at=utcnow() + max(delay, timedelta(seconds=1)),
                           error_kind=exc.kind.value, error_code=exc.code,
                           error_message=exc.message,
                           claimed_by=None, lease_expires_at=None)
            else:
                # A request that may have reached the platform is not resent blindly.
                kind = "uncertain" if exc.outcome_unknown else exc.kind.value
                transition(session, delivery_id, S.SENDING, S.FAILED, holder=self.worker_id,
                           detail=exc.message, error_kind=kind, error_code=exc.code,
                           error_message=exc.message, lease_expires_at=None)


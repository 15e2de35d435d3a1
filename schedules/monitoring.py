"""Monitoring jobs: poll the sources that are due (every 15 s; each source has its own interval),
and forget old poll history. Every scheduler may run them side by side: sources are claimed in
the database (monitor.polling).

This module wires what monitor/ may not reach itself: platform credentials from the publisher's
connected accounts (or, with the sandbox on, sandbox accounts by name) and the HTTP sessions
that point tweepy and facebook-sdk at the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from apscheduler.schedulers.base import BaseScheduler

from core.clock import utcnow
from core.i18n import N_
from core.mail import MailSender, send_pending
from monitor.alerts import alert_failing_sources, send_digests
from monitor.fetch import FetchError, SafeFetcher
from monitor.polling import LEASE_SECONDS, LiveIngest, PollOutcome, PollRunner, prune_history
from monitor.sources import PollContext
from publisher.adapters.base import PlatformError
from publisher.adapters.redirect import session_for
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.models import Account
from publisher.services import Services
from schedules.guard import add_job

# Cheap when nothing is due (one indexed query); each source keeps its own interval.
POLL_EVERY = timedelta(seconds=2)
POLL_CONCURRENCY = 8
PRUNE_EVERY = timedelta(hours=6)
DIGESTS_EVERY = timedelta(minutes=1)
FAILING_SOURCES_EVERY = timedelta(minutes=5)


def build_fetcher(services: Services) -> SafeFetcher:
    """The guarded fetcher, allowed what the admin allowed and, with the sandbox on, the
    sandbox's own host on its own port only (its demo news feeds are on loopback, which is
    otherwise refused; the host's other ports — the app itself, the database — stay refused)."""
    settings = services.settings
    endpoints: list[tuple[str, int]] = []
    sandbox = urlsplit(services.platforms.sandbox_url or "")
    if sandbox.hostname:
        endpoints.append((sandbox.hostname,
                          sandbox.port or (443 if sandbox.scheme == "https" else 80)))
    return SafeFetcher(allow=settings.fetch_allow_list, timeout=settings.fetch_timeout_seconds,
                       max_bytes=settings.fetch_max_bytes, endpoints=endpoints)


def credentials_lookup(services: Services) -> Callable[[int | str | None],
                                                       dict[str, str]]:
    """`account` is a connected account's id; with the sandbox on it may also be
    "x:<name>" or "facebook:<name>", a sandbox account (made on first use)."""
    sandbox = services.platforms.sandbox_url

    def credentials_for(account: int | str | None) -> dict[str, str]:
        if isinstance(account, int) or (isinstance(account, str) and account.isdigit()):
            with services.db.session() as session:
                found = session.get(Account, int(account))
                if found is None or not found.active:
                    raise LookupError(account)
                return services.box.open(found.credentials_sealed)
        if sandbox and isinstance(account, str) and ":" in account:
            platform, _, name = account.partition(":")
            try:
                return SandboxDirectory(sandbox).create_account(platform, name)
            except PlatformError as exc:
                raise FetchError("connect", N_("The sandbox did not answer: %(reason)s"),
                                 reason=exc.message) from None
        raise LookupError(account)

    return credentials_for


def build_context(services: Services) -> PollContext:
    settings = services.settings
    sandbox = services.platforms.sandbox_url
    timeout = float(settings.platform_timeout_seconds)
    ctx = PollContext(fetcher=build_fetcher(services),
                      credentials_for=credentials_lookup(services),
                      session_factory=lambda: session_for(sandbox, timeout),
                      graph_version=settings.graph_api_version)
    if sandbox:
        ctx.x_status_url = sandbox + "/sandbox/x/{username}/status/{id}"
    return ctx


def add_monitoring_jobs(scheduler: BaseScheduler, services: Services, worker_id: str) -> None:
    ctx = build_context(services)
    ingest = LiveIngest()
    # A claim must outlive the longest poll: a page source fetches its section and then
    # articles for up to four time limits (monitor.sources.pages).
    lease = max(LEASE_SECONDS, 8 * services.settings.fetch_timeout_seconds)
    mail = MailSender.from_settings(services.settings)

    def mail_alerts(outcome: PollOutcome) -> None:
        if outcome.items_new:
            # Alerts were queued with the new mentions: send them now, not on the next tick.
            send_pending(services.db, mail, worker_id=worker_id)

    # Each tick only claims and hands out (quick): a slow source holds one of the runner's
    # threads, never the job, so the others are polled on time and ticks never pile up.
    runner = PollRunner(services.db, ctx, ingest, worker_id, POLL_CONCURRENCY,
                        lease_seconds=lease, after=mail_alerts)
    add_job(scheduler, "poll_sources", runner.tick,
            "interval", seconds=POLL_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(seconds=5))
    add_job(scheduler, "prune_source_history", lambda: prune_history(services.db),
            "interval", seconds=PRUNE_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(minutes=10), jitter=600)
    # Alerts: digests at each subscriber's Stockholm hour, failing sources to the admins.
    add_job(scheduler, "send_digests", lambda: send_digests(services.db),
            "interval", seconds=DIGESTS_EVERY.total_seconds(), max_instances=1, coalesce=True,
            next_run_time=utcnow() + timedelta(seconds=20))
    add_job(scheduler, "alert_failing_sources", lambda: alert_failing_sources(
                services.db, threshold_minutes=services.settings.source_failure_alert_minutes),
            "interval", seconds=FAILING_SOURCES_EVERY.total_seconds(), max_instances=1,
            coalesce=True, next_run_time=utcnow() + timedelta(seconds=40))

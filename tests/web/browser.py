"""Real Chromium (through Playwright) and a real Megafon server on loopback, for the browser tests.

Megafon runs as it does under `megafon run`: the web app in a threaded werkzeug server and the
background scheduler, against the session's sandbox of X and Facebook.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from core.auth import create_user
from core.clock import STOCKHOLM, utcnow
from core.db import Database
from core.users import Role
from publisher.models import Delivery, Post
from publisher.services import Services
from schedules.jobs import start_background
from tests.conftest import PASSWORD, build_services
from web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

CHROMIUM = os.environ.get("MEGAFON_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_chromium() -> None:
    """Skip on a machine without Chromium or Playwright; in CI (CI set) fail instead."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"Chromium not found at {CHROMIUM} (set MEGAFON_TEST_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem and os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {problem}")
    if problem:
        pytest.skip(problem)


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def artifact(name: str) -> Path:
    """Where a test saves a screenshot of a page for people to look at (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@contextmanager
def _outside_faketime() -> Iterator[None]:
    """Start what is started here without libfaketime. Under `faketime -f '+365d' pytest` the
    suite shows that Megafon does not depend on today's date; Chromium is not Megafon, and with
    libfaketime in all its processes it takes a minute to start and never opens a second page.
    So Playwright's driver (and the browser it launches) keeps the real calendar; the pages it
    shows come from Megafon, which runs with the moved one."""
    preload = os.environ.get("LD_PRELOAD", "")
    if "faketime" not in preload:
        yield
        return
    # Only LD_PRELOAD goes: without it the driver does not load libfaketime, and the FAKETIME
    # variables mean nothing to it. They stay, because libfaketime in this process reads them
    # again every few seconds: had they gone for that moment, Megafon here would have run on
    # today's date for a while, a real clock mixed into a moved one.
    saved = os.environ.pop("LD_PRELOAD")
    try:
        yield
    finally:
        os.environ["LD_PRELOAD"] = saved


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with _outside_faketime():
        playwright = sync_playwright().start()  # the driver, which launches the browser
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@dataclass
class LiveMegafon:
    url: str
    sandbox_url: str
    email: str
    database_url: str
    password: str = PASSWORD
    services: Services | None = None  # the live server's own, to act as its scheduler would

    def its_time_has_come(self, text: str) -> int:
        """The moment a post was queued for arrives now: the test moves its due time instead of
        waiting for a real Stockholm minute. Returns how many deliveries were moved."""
        database = Database(self.database_url)
        try:
            with database.session() as session:
                post_ids = select(Post.id).where(Post.text == text)
                now = utcnow()
                return session.execute(
                    update(Delivery).where(Delivery.post_id.in_(post_ids))
                    .values(due_at=now, next_attempt_at=now)).rowcount
        finally:
            database.dispose()


@contextmanager
def live_megafon(directory: Path, sandbox_url: str) -> Iterator[LiveMegafon]:
    """Megafon serving on a free loopback port, its scheduler dispatching every second."""
    services = build_services(directory / "instance", f"sqlite:///{directory / 'megafon.db'}",
                              sandbox_url, dispatch_interval_seconds=1)
    email = f"admin-{uuid.uuid4().hex[:6]}@example.org"
    with services.db.session() as session:
        create_user(session, email=email, name="Alva Admin", password=PASSWORD, role=Role.ADMIN)
    server = make_server("127.0.0.1", 0, create_app(services.settings, services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="megafon-web", daemon=True)
    thread.start()
    scheduler = start_background(services)
    try:
        yield LiveMegafon(f"http://127.0.0.1:{server.server_port}", sandbox_url, email,
                          services.settings.database_url, services=services)
    finally:
        scheduler.shutdown(wait=True)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        services.db.dispose()


def next_minute_but_one(now: datetime | None = None) -> datetime:
    """Stockholm wall-clock time: round up to the next whole minute, then one more."""
    now = now or datetime.now(STOCKHOLM)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=2)


class Megafon:
    """What a person does in Megafon, step by step, through the page."""

    def __init__(self, page: Page, live: LiveMegafon) -> None:
        self.page, self.live = page, live

    def log_in(self) -> None:
        self.page.goto(self.live.url + "/")
        self.page.fill("#email", self.live.email)
        self.page.fill("#password", self.live.password)
        self.page.click("form button[type=submit].primary")
        self.page.wait_for_selector("nav.mainnav")

    def switch_language(self) -> None:
        self.page.click("[data-testid=language-switch]")
        self.page.wait_for_load_state()

    def open(self, path: str) -> None:
        """Follow a link in the main navigation."""
        self.page.click(f"nav.mainnav a[href='{path}']")
        self.page.wait_for_load_state()

    def connect_sandbox_account(self, platform: str, name: str) -> None:
        self.page.select_option("select[name=sb-platform]", platform)
        self.page.fill("input[name=sb-name]", name)
        self.page.click("#sandbox button[type=submit]")
        self.page.wait_for_load_state()

    def queue_post(self, text: str, account_names: list[str], at_local: datetime) -> None:
        self.page.fill("#text", text)
        for name in account_names:
            self.page.locator("ul.checks label", has_text=name).locator("input").check()
        self.page.fill("#scheduled_date", at_local.strftime("%Y-%m-%d"))
        self.page.fill("#scheduled_time", at_local.strftime("%H:%M"))
        self.page.click("form.compose button[type=submit]")
        self.page.wait_for_load_state()

    def rows(self, table: str, text: str) -> Locator:
        return self.page.locator(f"[data-testid={table}] tbody tr").filter(has_text=text)

    def wait_until_published(self, text: str, expected: int, until: datetime) -> Locator:
        """Reload the overview until every delivery of the post shows as published."""
        published = self.rows("recent", text).filter(
            has=self.page.locator("[data-state=published]"))
        while published.count() < expected and datetime.now(STOCKHOLM) < until:
            self.page.wait_for_timeout(2000)
            self.page.reload()
        return published

"""Fixtures that build real objects: databases (SQLite and PostgreSQL), the sandbox, the app.

PostgreSQL tests need MEGAFON_TEST_POSTGRES_URL (an admin URL to a server where databases may be
created; default: the local server). They skip on a developer machine without PostgreSQL and
fail in CI (CI=true), where they must run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from core import migrate
from core.auth import create_user, district
from core.db import Database
from core.settings import Settings
from core.users import Organisation, OrganisationKind, Role, User
from publisher.accounts import connect_account
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.models import Account, Platform
from publisher.services import Services
from sandbox.server import SandboxServer
from tests.databases import copy_sqlite, postgres_template
from tests.publisher.sandbox_faults import set_sandbox_time


def pytest_configure(config: pytest.Config) -> None:
    """Under `faketime -f '+365d' python -m pytest` the suite must pass: no test may depend on
    today's date. libfaketime (0.9.10) also shifts CLOCK_MONOTONIC but not the kernel's timed
    waits (sem_clockwait), so every `Event.wait(1)` or `Queue.get(timeout=1)` in Python would
    sleep a year: the threads of APScheduler, the dispatcher and waitress would hang. Shift the
    calendar, keep the stopwatch: run once more, before any test, thread or xdist worker has
    started, with the monotonic clock left real (workers and subprocesses inherit it). pytest's
    output capture is stopped first, so the new run writes to the terminal, not to its files."""
    if ("faketime" in os.environ.get("LD_PRELOAD", "") and os.environ.get("FAKETIME")
            and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") != "1"):
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is not None:
            capture.stop_global_capturing()
        os.environ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
        os.execv(sys.executable, sys.orig_argv)

def _sleep_that_survives_libfaketime() -> None:
    """With the monotonic clock left real, libfaketime 0.9.10 still rewrites the absolute
    deadline of `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`, which `time.sleep` uses, into
    an invalid one (EINVAL). In the test processes under faketime, sleep on an Event instead
    (a timed wait on the real monotonic clock, which works); outside faketime nothing changes.
    Megafon's own processes do not call time.sleep."""
    if ("faketime" in os.environ.get("LD_PRELOAD", "")
            and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"):
        def sleep(seconds: float) -> None:
            if seconds < 0:
                raise ValueError("sleep length must be non-negative")
            threading.Event().wait(seconds)

        time.sleep = sleep


_sleep_that_survives_libfaketime()

PG_ADMIN_URL = os.environ.get(
    "MEGAFON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery"


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable (set MEGAFON_TEST_POSTGRES_URL)")
    return PG_ADMIN_URL


def _new_postgres_database(admin_url: str, template: str | None) -> Iterator[str]:
    """A database of its own for one test (a copy of `template` if given), dropped afterwards."""
    name = f"megafon_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'
                          + (f' TEMPLATE "{template}"' if template else "")))
    base, _, _ = admin_url.rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database for one test (a copy of the run's template)."""
    yield from _new_postgres_database(postgres_admin_url, postgres_template(postgres_admin_url))


@pytest.fixture
def empty_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database, for tests of the migrations themselves."""
    yield from _new_postgres_database(postgres_admin_url, None)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database for one test (a copy of the run's template file)."""
    copy_sqlite(tmp_path / "megafon.db")
    return f"sqlite:///{tmp_path / 'megafon.db'}"


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL, each database migrated."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_empty_db_url(request: pytest.FixtureRequest) -> str:
    """`any_db_url`, but empty: for tests of the migrations themselves."""
    return request.getfixturevalue(
        "empty_sqlite_url" if request.param == "sqlite" else "empty_postgres_url")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    server = SandboxServer(str(tmp_path_factory.mktemp("sandbox") / "state.db"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_at(sandbox: SandboxServer) -> Iterator[Callable[[datetime], None]]:
    """Fix the sandbox's clock where the test fixes Megafon's (a 429's reset or a token's
    expiry must be in the test's time, not today's); back to the real clock afterwards."""
    def move(moment: datetime) -> None:
        set_sandbox_time(sandbox.url, moment)

    yield move
    set_sandbox_time(sandbox.url, None)


def build_services(instance: Path, database_url: str, sandbox_url: str, **overrides: object
                   ) -> Services:
    settings = Settings.from_env(
        {}, instance_path=instance, database_url=database_url, sandbox="on",
        sandbox_url=sandbox_url, secret_key="test-secret-" + uuid.uuid4().hex, **overrides)
    if database_url.startswith("sqlite:///") and not Path(database_url[10:]).exists():
        copy_sqlite(Path(database_url[10:]))  # a new file: the migrated template, copied
    migrate.upgrade(settings.database_url)  # at head already: a check that costs ~30 ms
    return Services.from_settings(settings)


def _services(tmp_path: Path, database_url: str, sandbox: SandboxServer) -> Iterator[Services]:
    built = build_services(tmp_path / "instance", database_url, sandbox.url)
    yield built
    built.db.dispose()


@pytest.fixture
def services(tmp_path: Path, sqlite_url: str, sandbox: SandboxServer) -> Iterator[Services]:
    yield from _services(tmp_path, sqlite_url, sandbox)


@pytest.fixture
def services_on_any_db(tmp_path: Path, any_db_url: str, sandbox: SandboxServer
                       ) -> Iterator[Services]:
    """`services` once on SQLite and once on PostgreSQL."""
    yield from _services(tmp_path, any_db_url, sandbox)


@pytest.fixture
def db(services: Services) -> Database:
    return services.db


@pytest.fixture
def make_org(db: Database) -> Callable[..., Organisation]:
    def make(name: str | None = None, kind: OrganisationKind = OrganisationKind.ASSOCIATION
             ) -> Organisation:
        with db.session() as session:
            if kind is OrganisationKind.DISTRICT:
                return district(session)
            org = Organisation(name=name or f"Förening {uuid.uuid4().hex[:6]}", kind=kind,
                               parent=district(session))
            session.add(org)
            session.flush()
            return org

    return make


@pytest.fixture
def make_user(db: Database) -> Callable[..., User]:
    def make(role: Role = Role.ADMIN, organisation: Organisation | None = None,
             email: str | None = None, password: str = PASSWORD) -> User:
        with db.session() as session:
            org = session.get(Organisation, organisation.id) if organisation else None
            user = create_user(session, email=email or f"{uuid.uuid4().hex[:8]}@example.org",
                               name=f"{role.value.title()} Testsson", password=password,
                               role=role, organisation=org)
            session.flush()
            session.refresh(user)
            return user

    return make


def connect_sandbox_account(services: Services, platform: Platform = Platform.X,
                            organisation: Organisation | None = None, name: str | None = None
                            ) -> tuple[Account, dict[str, str]]:
    """A sandbox account connected through the real connect path; returns it and its secrets."""
    name = name or f"Konto {uuid.uuid4().hex[:6]}"
    creds = SandboxDirectory(services.platforms.sandbox_url or "").create_account(
        platform.value, name)
    with services.db.session() as session:
        admin = session.scalar(select(User).where(User.email == "connector@example.org"))
        if admin is None:
            admin = create_user(session, email="connector@example.org", name="Connector",
                                password=PASSWORD, role=Role.ADMIN)
        org_id = organisation.id if organisation else district(session).id
        account = connect_account(session, box=services.box, platforms=services.platforms,
                                  user=admin, platform=platform, name=name,
                                  organisation_id=org_id, credentials=creds)
    return account, creds


@pytest.fixture
def make_account(services: Services) -> Callable[..., tuple[Account, dict[str, str]]]:
    def make(platform: Platform = Platform.X, organisation: Organisation | None = None,
             name: str | None = None) -> tuple[Account, dict[str, str]]:
        return connect_sandbox_account(services, platform, organisation, name)

    return make

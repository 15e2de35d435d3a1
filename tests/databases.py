"""Migrated databases for tests, migrated once per database kind and copied for each test.

Running the Alembic chain costs about 0.8 s a database; hundreds of tests each ran it. Now the
first test of a run migrates a template (an SQLite file; a PostgreSQL template database), named
by a hash of the migration files so that a changed migration builds a new one, and every test
gets a copy: a file copy, or `CREATE DATABASE … TEMPLATE …`. A lock (a file lock; an advisory
lock on the server) makes xdist's workers build each template once between them. Tests of the
migrations themselves use empty databases (`empty_*` fixtures in tests/conftest.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, text

from core import migrate

TEMPLATE_PREFIX = "megafon_tpl_"


@cache
def schema_key() -> str:
    """A short hash of every migration file: a template is reused only for the same chain."""
    digest = hashlib.sha256()
    for path in sorted(migrate.MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@cache
def sqlite_template() -> Path:
    """A migrated SQLite file, built once for every process that runs tests on this machine."""
    folder = Path(tempfile.gettempdir()) / "megafon-test-templates"
    folder.mkdir(exist_ok=True)
    template = folder / f"{schema_key()}.db"
    with _file_lock(folder / "lock"):
        if not template.exists():
            building = folder / f"{schema_key()}.{os.getpid()}.building"
            migrate.upgrade(f"sqlite:///{building}")
            os.replace(building, template)
    return template


def copy_sqlite(path: Path) -> None:
    """A migrated database at `path` (a new file; nothing there yet)."""
    shutil.copyfile(sqlite_template(), path)


@cache
def postgres_template(admin_url: str) -> str:
    """The name of a migrated template database on the server at `admin_url`, built once."""
    name = f"{TEMPLATE_PREFIX}{schema_key()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(hashtext('megafon test templates'))"))
            try:
                exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name})
                if not exists:
                    _build_postgres_template(conn, admin_url, name)
            finally:
                conn.execute(text(
                    "SELECT pg_advisory_unlock(hashtext('megafon test templates'))"))
    finally:
        admin.dispose()
    return name


def _build_postgres_template(conn, admin_url: str, name: str) -> None:  # noqa: ANN001
    building = f"{name}_building"
    conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
    conn.execute(text(f'CREATE DATABASE "{building}"'))
    base, _, _ = admin_url.rpartition("/")
    migrate.upgrade(f"{base}/{building}")
    # Templates of other migration chains stay: another checkout's run may be copying one now.
    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))

"""A database of its own for one benchmark run, so runs never meet each other's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


@contextmanager
def scratch_database(url: str | None, sqlite_dir: Path, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database next to the one `url` names (dropped afterwards), or, without
    a PostgreSQL url, a new SQLite file in `sqlite_dir`."""
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{sqlite_dir / f'{prefix}.db'}"
        return
    name = f"megafon_{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rpartition("/")[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""Pooled PostgreSQL connections survive the server closing them while they sat idle."""

import pytest
from sqlalchemy import create_engine, text

from core import db as db_module
from core.db import Database


def backend_pid(database: Database) -> int:
    with database.session() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.postgres
def test_a_pooled_connection_closed_by_the_server_is_replaced_before_use(postgres_url,
                                                                         monkeypatch):
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout is "idle"
    database = Database(postgres_url)
    try:
        first = backend_pid(database)
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # as a server restart would
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        assert backend_pid(database) != first  # no error: the pool opened a new connection
    finally:
        database.dispose()


@pytest.mark.postgres
def test_without_the_idle_check_the_closed_connection_would_fail(postgres_url, monkeypatch):
    """The check above is what saves the session (so the test above can fail)."""
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    database = Database(postgres_url)
    try:
        first = backend_pid(database)
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        admin.dispose()
        with pytest.raises(Exception, match="terminat|closed|connection"):
            backend_pid(database)
        assert backend_pid(database) != first  # and the pool recovers on the next use
    finally:
        database.dispose()

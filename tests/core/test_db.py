"""Pooled PostgreSQL connections survive the server closing them (a restart, an idle timeout)."""

import pytest
from sqlalchemy import create_engine, text

from core.db import Database


def backend_pid(database: Database) -> int:
    with database.session() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.postgres
def test_a_pooled_connection_closed_by_the_server_is_replaced_before_use(postgres_url):
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

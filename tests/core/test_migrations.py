"""Migrations build the schema from empty on both databases and match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from core import migrate


def test_upgrade_from_empty_matches_models(any_empty_db_url: str):
    migrate.upgrade(any_empty_db_url)
    engine = create_engine(any_empty_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                      "include_object": migrate.outside_models}),
                                migrate.all_metadata())
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"users", "accounts", "posts", "deliveries", "delivery_events"} <= tables


def test_downgrade_to_empty_and_up_again(any_empty_db_url: str):
    migrate.upgrade(any_empty_db_url)
    migrate.downgrade(any_empty_db_url, "base")
    engine = create_engine(any_empty_db_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(any_empty_db_url)

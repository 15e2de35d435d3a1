"""Alembic, driven from code: `megafon db upgrade`, `make run` and the tests all come here."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The migration environment is the one place that must see every table. Names, not imports,
# keep core free of imports from the outer domain packages.
MODEL_MODULES = (
    "core.users", "core.notifications", "core.workers", "publisher.models", "publisher.metrics",
    "monitor.models", "reports.snapshots", "reports.post_issues", "reports.mailing",
    "core.tokens", "monitor.privacy", "campaigns.models", "publisher.drafts", "publisher.approval",
    "campaigns.event_models",
    "publisher.posting_slots",
    "publisher.bulk_import",
    "core.audit",
)


def all_metadata() -> MetaData:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from core.db import Base

    return Base.metadata


# Kept by migrations and read only through SQL (monitor.fulltext): PostgreSQL's generated
# mentions.search_vector and SQLite's FTS5 table mention_text with its shadow tables. The models
# do not map them, so the comparison of models and schema leaves them out.
OUTSIDE_MODELS_COLUMNS = {("mentions", "search_vector")}
OUTSIDE_MODELS_TABLE_PREFIX = "mention_text"


def outside_models(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Alembic's include_object: False for the schema that the models do not map."""
    if type_ == "table" and name and name.startswith(OUTSIDE_MODELS_TABLE_PREFIX):
        return False
    if type_ == "column" and (getattr(getattr(obj, "table", None), "name", None), name) in \
            OUTSIDE_MODELS_COLUMNS:
        return False
    return not (type_ == "index" and name == "ix_mentions_search_vector")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url))

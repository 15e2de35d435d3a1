"""The one way work is claimed in the database: a locking SELECT run exactly once.

Every claim in Megafon is `UPDATE … WHERE id IN (<due ids>) AND <still due> RETURNING id`. The due
ids come from `SELECT … ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED`, wrapped in a MATERIALIZED
CTE: as a plain `IN (subquery)` PostgreSQL may run the subquery again for every row, each run
skipping the rows already taken, so the LIMIT stops limiting and one worker claims everything.
On SQLite, locking clauses are not rendered and the single writer makes the guarded UPDATE
atomic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select


def locked_ids(query: Select[Any], name: str = "due") -> Select[Any]:
    """`query` (selecting one id column, ordered and limited) as a run-once locking set."""
    due = query.with_for_update(skip_locked=True).cte(name).prefix_with("MATERIALIZED")
    return select(*due.c)

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

from sqlalchemy import Select, func, select


def locked_ids(query: Select[Any], name: str = "due") -> Select[Any]:
    """`query` (selecting one id column, ordered and limited) as a run-once locking set."""
    due = query.with_for_update(skip_locked=True).cte(name).prefix_with("MATERIALIZED")
    return select(*due.c)


def lease_clock(postgres: bool, now: Any) -> Any:
    """The one clock that writes and judges leases. A lease is written by one process and judged
    by another, perhaps on another machine whose clock is minutes off: on PostgreSQL both use the
    database server's clock (`statement_timestamp()`), so a worker whose clock runs slow cannot
    write a lease that others already see as run out (and send its post a second time). SQLite
    lives on one machine: there `now` (the application's clock, a bound value) is that clock."""
    return func.statement_timestamp() if postgres else now



def lease_end(postgres: bool, seconds: Any, end: Any) -> Any:
    """When a lease taken now runs out: on PostgreSQL `seconds` (a number or bound value) after
    the server's clock; on SQLite `end`, the application's now plus the lease, computed by the
    caller."""
    if postgres:
        return func.statement_timestamp() + func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return end

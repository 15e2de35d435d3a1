"""The one way work is claimed in the database: a locking SELECT run exactly once.

Every claim in Megafon is `UPDATE … WHERE id IN (<due ids>) AND <still due> RETURNING id`. The due
ids come from `SELECT … ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED`, wrapped in a MATERIALIZED
CTE: as a plain `IN (subquery)` PostgreSQL may run the subquery again for every row, each run
skipping the rows already taken, so the LIMIT stops limiting and one worker claims everything.
On SQLite, locking clauses are not rendered and the single writer makes the guarded UPDATE
atomic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from core.db import on_postgres


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


@dataclass(frozen=True)
class Lease:
    """Where one kind of row keeps its claim: the column naming the worker that holds it and
    the column saying when the hold runs out (both ORM attributes).

    `judged`: a claim takes only rows with no lease or one that ran out. False for a queue whose
    due time is its lease (the e-mail outbox): it judges that column in its own conditions,
    with `lease_clock`."""

    holder: Any
    until: Any
    judged: bool = True

    def free(self, postgres: bool, now: datetime) -> ColumnElement[bool]:
        """No one holds the row, or the holder's lease ran out (on the lease clock)."""
        return or_(self.until.is_(None), self.until < lease_clock(postgres, now))


def claim(session: Session, key: Any, *, where: Sequence[ColumnElement[bool]],
          order_by: Sequence[Any], limit: int, now: datetime, lease: Lease | None = None,
          worker: str | None = None, seconds: float = 0,
          values: Mapping[str, Any] | None = None,
          pick_only: Sequence[ColumnElement[bool]] = ()) -> list[Any]:
    """Claim up to `limit` rows in one statement and return their keys, sorted.

    `key` is the id column of the rows (an ORM attribute); `where` says which rows are due and
    is checked twice, in the locking SELECT and again in the UPDATE, so a row that stopped being
    due between the two (another worker, an admin) is not taken. `pick_only` narrows the SELECT
    alone (conditions on other tables that need no guard). With a `lease`, only free rows are
    taken and each gets `worker` as its holder and a lease `seconds` long, written on the lease
    clock. `values` are set as well (e.g. an attempt counter).
    """
    postgres = on_postgres(session)
    guard = list(where)
    sets: dict[str, Any] = dict(values or {})
    if lease is not None:
        if lease.judged:
            guard.append(lease.free(postgres, now))
        sets[lease.holder.key] = worker
        sets[lease.until.key] = lease_end(postgres, float(seconds),
                                          now + timedelta(seconds=seconds))
    due = locked_ids(select(key).where(*guard, *pick_only).order_by(*order_by).limit(limit))
    return sorted(session.scalars(
        update(key.class_)
        .where(key.in_(due), *guard)
        .values(**sets)
        .returning(key)
        .execution_options(synchronize_session=False)))

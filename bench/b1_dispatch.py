"""B1: dispatch throughput, lateness and exactly-once, on PostgreSQL with real worker processes.

The sandbox runs in its own process with 50 ms latency on every call and raised rate limits.
(a) a national campaign launch: 600 deliveries over 300 accounts all due at the same second;
(b) 10,000 deliveries due within one minute over 50 accounts.
Each with 1, 2 and 4 `megafon worker` processes (per-worker concurrency fixed), and the naive way
(one APScheduler date job per delivery, sent in turn) as the baseline (on a sample for (b)).

    MEGAFON_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test python bench/b1_dispatch.py

Prints a line per run, a summary line per scenario (`B1a …`, `B1b …`) and, last, the line the
targets are read from: `B1 workers=4 total_s=… p50_late_s=… p99_late_s=… speedup_vs_1=…
vs_naive=… duplicates=… lost=…`. Options: --quick (smaller (b)), --workers 1,2,4,
--repeat 3 (runs of (a) per worker count).

Where the last line's figures come from:
- total_s: scenario (b), from the first due time to the last publication (target: within 90 s);
- p50/p99_late_s: the worse of (a) and (b) with the most workers (target: p99 ≤ 2 s);
- speedup_vs_1 and vs_naive: throughput in (a), where all the work is due at once, so it shows
  capacity. (a) takes about a second, so a neighbour's burst on a shared machine can move one
  run by a third: each worker count runs --repeat times and the run with the median total time
  stands for it (every run is printed). (b) releases work at 10,000 / 60 s ≈ 167/s, so every
  run that keeps up has a throughput of ≈ 167/s whatever its capacity; its ratios (printed on
  the B1b line) are capped by that rate and say only whether the stream was kept up with;
- duplicates and lost: summed over every run of Megafon's workers, repeats included.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import migrate  # noqa: E402
from core.auth import create_user  # noqa: E402
from core.crypto import CredentialBox  # noqa: E402
from core.db import Database  # noqa: E402
from core.users import Role  # noqa: E402
from core.workers import alive  # noqa: E402
from publisher.adapters.base import Content  # noqa: E402
from publisher.models import Account, Delivery, DeliveryState, Platform, Post  # noqa: E402
from publisher.platforms import Platforms  # noqa: E402

LATENCY_MS = 50
CONCURRENCY = 8  # per worker, fixed across runs
BOOT_TIMEOUT_SECONDS = 120
SETTLE_SECONDS = 3  # after the last worker's first heartbeat: its start-up jobs run once


@dataclass
class Result:
    label: str
    workers: int
    deliveries: int
    total_s: float
    p50_late_s: float
    p99_late_s: float
    duplicates: int
    lost: int

    @property
    def throughput(self) -> float:
        return self.deliveries / self.total_s if self.total_s else 0.0

    def line(self) -> str:
        return (f"{self.label:<28} workers={self.workers} deliveries={self.deliveries} "
                f"total_s={self.total_s:.2f} per_s={self.throughput:.1f} "
                f"p50_late_s={self.p50_late_s:.2f} p99_late_s={self.p99_late_s:.2f} "
                f"duplicates={self.duplicates} lost={self.lost}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "sandbox", "serve", "--port", str(self.port),
             "--state", str(workdir / "sandbox.db")], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/sandbox/api/accounts", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("sandbox did not start")

    def api(self, method: str, path: str, **kwargs: object) -> object:
        response = requests.request(method, f"{self.url}/sandbox/api{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Run:
    """One fresh PostgreSQL database with accounts and deliveries for one measurement."""

    def __init__(self, admin_url: str, sandbox: SandboxProcess, workdir: Path) -> None:
        self.admin_url = admin_url
        self.sandbox = sandbox
        self.name = f"megafon_b1_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = admin_url.rpartition("/")[0] + "/" + self.name
        migrate.upgrade(self.url)
        self.db = Database(self.url)
        self.secret = "bench-" + uuid.uuid4().hex
        self.box = CredentialBox(self.secret)
        self.workdir = workdir
        self.keys: dict[int, str] = {}

    def accounts(self, count: int) -> list[int]:
        self.sandbox.api("POST", "/reset", json={"keep_accounts": False})
        ids = []
        with self.db.session() as session:
            author = create_user(session, email="bench@example.org", name="Bench",
                                 password="benchmark-password", role=Role.COMMS)
            self.author_id = author.id
            for n in range(count):
                platform = Platform.X if n % 2 == 0 else Platform.FACEBOOK
                creds = self.sandbox.api("POST", "/accounts",
                                         json={"platform": platform.value, "name": f"b1-{n}"})
                key = creds.get("user_id") or creds["page_id"]
                self.sandbox.api("POST", f"/accounts/{key}/faults",
                                 json={"latency_ms": LATENCY_MS, "rate_limit": 1_000_000})
                account = Account(platform=platform, name=f"b1-{n}",
                                  handle=creds.get("username", key), external_id=key,
                                  organisation_id=author.organisation_id,
                                  credentials_sealed=self.box.seal(
                                      {k: str(v) for k, v in creds.items()}))
                session.add(account)
                session.flush()
                ids.append(account.id)
                self.keys[account.id] = key
        return ids

    def deliveries(self, account_ids: list[int], total: int, first_due: datetime,
                   spread_s: float) -> None:
        """`total` deliveries, round-robin over the accounts, due evenly over `spread_s`."""
        per_post = len(account_ids)
        with self.db.session() as session:
            for start in range(0, total, per_post):
                n_here = min(per_post, total - start)
                due = first_due + timedelta(seconds=spread_s * start / max(1, total))
                post_id = session.execute(insert(Post).values(
                    author_id=self.author_id, text=f"B1 {self.name} post {start}",
                    scheduled_at=due).returning(Post.id)).scalar_one()
                session.execute(insert(Delivery), [
                    {"post_id": post_id, "account_id": account_ids[i], "due_at": due,
                     "next_attempt_at": due, "state": DeliveryState.SCHEDULED,
                     "updated_at": datetime.now(UTC)} for i in range(n_here)])

    def outcome(self, label: str, workers: int, total: int, first_due: datetime) -> Result:
        with self.db.session() as session:
            rows = session.execute(select(Delivery.due_at, Delivery.published_at, Delivery.state,
                                          Delivery.account_id, Post.text)
                                   .join(Post, Post.id == Delivery.post_id)).all()
        published = [r for r in rows if r.state is DeliveryState.PUBLISHED]
        late = sorted(max(0.0, (r.published_at - r.due_at).total_seconds()) for r in published)
        last = max((r.published_at for r in published), default=first_due)
        counts: Counter = Counter()
        for account_id, key in self.keys.items():
            for post in self.sandbox.api("GET", f"/accounts/{key}/posts"):
                body = post.get("text") or post.get("message") or ""
                if self.name in body:
                    counts[(account_id, body.split("\n")[0])] += 1
        expected = {(r.account_id, r.text) for r in rows}
        duplicates = sum(n - 1 for n in counts.values() if n > 1)
        lost = len(expected - set(counts))
        return Result(label, workers, total, (last - first_due).total_seconds(),
                      _pct(late, 50), _pct(late, 99), duplicates, lost)

    def wait_until_alive(self, workers: int, timeout: float) -> None:
        """Until every worker's scheduler has written its first heartbeat (imports done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as session:
                if alive(session)[0] >= workers:
                    return
            time.sleep(0.25)
        print(f"  ! only some workers started within {timeout:.0f} s", file=sys.stderr)

    def wait_until_done(self, total: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as session:
                done = session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.state.in_((DeliveryState.PUBLISHED, DeliveryState.FAILED))))
            if done >= total:
                return
            time.sleep(0.25)
        print(f"  ! timed out after {timeout:.0f} s", file=sys.stderr)

    def drop(self) -> None:
        self.db.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def _median_run(runs: list[Result]) -> Result:
    """The run with the median total time (the upper one of an even count)."""
    return sorted(runs, key=lambda r: r.total_s)[len(runs) // 2]


def run_workers(run: Run, workers: int, total: int, queue: Callable[[], datetime],
                timeout: float) -> datetime:
    """Start the workers, wait until each has booted (imports take seconds on 2 cores, more on a
    slow machine) and run its start-up jobs, then queue the work: lateness measures
    dispatching, not process start-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEGAFON_")}
    env.update({
        "MEGAFON_DATABASE_URL": run.url, "MEGAFON_SECRET_KEY": run.secret,
        "MEGAFON_INSTANCE_PATH": str(run.workdir), "MEGAFON_SANDBOX": "on",
        "MEGAFON_SANDBOX_URL": run.sandbox.url, "MEGAFON_DISPATCH_INTERVAL_SECONDS": "1",
        "MEGAFON_DISPATCH_CONCURRENCY": str(CONCURRENCY), "MEGAFON_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    procs = [subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT, env=env)
             for _ in range(workers)]
    try:
        run.wait_until_alive(workers, BOOT_TIMEOUT_SECONDS)
        time.sleep(SETTLE_SECONDS)
        first_due = queue()
        run.wait_until_done(total, timeout)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return first_due


def run_naive(run: Run, total: int, first_due: datetime, timeout: float) -> None:
    """The naive way: one APScheduler date job per delivery, one executor thread, in turn."""
    platforms = Platforms.for_sandbox(run.sandbox.url)
    with run.db.session() as session:
        jobs = session.execute(select(Delivery.id, Delivery.due_at, Account.platform,
                                      Account.credentials_sealed, Post.text)
                               .join(Account, Account.id == Delivery.account_id)
                               .join(Post, Post.id == Delivery.post_id)).all()
    done = threading.Semaphore(0)

    def send(delivery_id: int, platform: Platform, sealed: str, body: str) -> None:
        try:
            published = platforms.adapter(platform).publish(run.box.open(sealed),
                                                            Content(text=body))
            with run.db.session() as session:
                session.execute(Delivery.__table__.update().where(Delivery.id == delivery_id)
                                .values(state=DeliveryState.PUBLISHED,
                                        external_id=published.external_id,
                                        published_at=datetime.now(UTC)))
        finally:
            done.release()

    scheduler = BackgroundScheduler(timezone="UTC",
                                    executors={"default": {"type": "threadpool",
                                                           "max_workers": 1}})
    for job in jobs:
        scheduler.add_job(send, "date", run_date=job.due_at, misfire_grace_time=None,
                          args=(job.id, job.platform, job.credentials_sealed, job.text))
    scheduler.start()
    deadline = time.monotonic() + timeout
    for _ in jobs:
        if not done.acquire(timeout=max(0.1, deadline - time.monotonic())):
            break
    scheduler.shutdown(wait=False)


def scenario(admin_url: str, sandbox: SandboxProcess, workdir: Path, label: str, accounts: int,
             total: int, spread_s: float, workers: int | None, timeout: float) -> Result:
    run = Run(admin_url, sandbox, workdir)
    try:
        account_ids = run.accounts(accounts)

        def queue() -> datetime:
            first_due = datetime.now(UTC) + timedelta(seconds=3)
            run.deliveries(account_ids, total, first_due, spread_s)
            return first_due

        if workers is None:
            first_due = queue()
            run_naive(run, total, first_due, timeout)
        else:
            first_due = run_workers(run, workers, total, queue, timeout)
        result = run.outcome(label, workers or 0, total, first_due)
    finally:
        run.drop()
    print(result.line(), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(b) with 2,000 deliveries")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of (a) per worker count; the median run is reported")
    parser.add_argument("--naive-sample", type=int, default=1000,
                        help="deliveries the naive baseline sends in scenario (b)")
    args = parser.parse_args()
    admin_url = os.environ.get("MEGAFON_DATABASE_URL", "")
    if not admin_url.startswith("postgresql"):
        sys.exit("B1 runs on PostgreSQL: set MEGAFON_DATABASE_URL=postgresql+psycopg://…")
    counts = [int(n) for n in args.workers.split(",")]
    big = 2000 if args.quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sandbox = SandboxProcess(workdir)
        try:
            print(f"B1 sandbox latency {LATENCY_MS} ms, per-worker concurrency {CONCURRENCY}, "
                  f"{os.cpu_count()} cores")
            a_runs = {w: [scenario(admin_url, sandbox, workdir, "(a) launch 600/300 accounts",
                                   300, 600, 0.0, w, 600) for _ in range(max(1, args.repeat))]
                      for w in counts}
            a = {w: _median_run(runs) for w, runs in a_runs.items()}
            a_naive = scenario(admin_url, sandbox, workdir, "(a) naive", 300, 600, 0.0, None,
                               600)
            b = {w: scenario(admin_url, sandbox, workdir, f"(b) {big} in 60 s/50 accounts", 50,
                             big, 60.0, w, 900) for w in counts}
            sample = min(args.naive_sample, big)
            b_naive = scenario(admin_url, sandbox, workdir, f"(b) naive sample {sample}", 50,
                               sample, 60.0 * sample / big, None, 900)
        finally:
            sandbox.stop()
    top = max(counts)
    speedup_a = a[top].throughput / a[1].throughput if 1 in a else float("nan")
    speedup = b[top].throughput / b[1].throughput if 1 in b else float("nan")
    vs_naive = b[top].throughput / b_naive.throughput if b_naive.throughput else float("nan")
    vs_naive_a = a[top].throughput / a_naive.throughput if a_naive.throughput else float("nan")
    all_a = [r for runs in a_runs.values() for r in runs]
    everything = [*all_a, *b.values()]  # Megafon's runs (the baseline's are printed above)
    for name, runs, top_run, ratio, ratio_naive in (
            ("B1a", all_a, a[top], speedup_a, vs_naive_a),
            ("B1b", list(b.values()), b[top], speedup, vs_naive)):
        print(f"{name} workers={top} total_s={top_run.total_s:.2f} "
              f"p50_late_s={top_run.p50_late_s:.2f} p99_late_s={top_run.p99_late_s:.2f} "
              f"speedup_vs_1={ratio:.2f} vs_naive={ratio_naive:.1f} "
              f"duplicates={sum(r.duplicates for r in runs)} "
              f"lost={sum(r.lost for r in runs)}")
    print(f"B1 workers={top} total_s={b[top].total_s:.2f} "
          f"p50_late_s={max(a[top].p50_late_s, b[top].p50_late_s):.2f} "
          f"p99_late_s={max(a[top].p99_late_s, b[top].p99_late_s):.2f} "
          f"speedup_vs_1={speedup_a:.2f} vs_naive={vs_naive_a:.1f} "
          f"duplicates={sum(r.duplicates for r in everything)} "
          f"lost={sum(r.lost for r in everything)}")


if __name__ == "__main__":
    main()

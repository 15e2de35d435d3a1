"""Real `megafon worker` processes against a test database and sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from publisher.services import Services

ROOT = Path(__file__).resolve().parents[2]


def worker_env(services: Services, **overrides: object) -> dict[str, str]:
    settings = services.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEGAFON_")}
    env.update({
        "MEGAFON_DATABASE_URL": settings.database_url,
        "MEGAFON_INSTANCE_PATH": str(settings.instance_path),
        "MEGAFON_SECRET_KEY": settings.secret_key,
        "MEGAFON_SANDBOX": "on",
        "MEGAFON_SANDBOX_URL": settings.sandbox_url,
        "MEGAFON_DISPATCH_INTERVAL_SECONDS": "1",
        "MEGAFON_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    env.update({f"MEGAFON_{k.upper()}": str(v) for k, v in overrides.items()})
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], env=env, cwd=ROOT,
                            stdout=handle, stderr=subprocess.STDOUT)


@contextmanager
def workers(env: dict[str, str], count: int, logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [start_worker(env, logs / f"worker-{n}.log") for n in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

"""B5: alert latency, from an item appearing in a feed to the e-mail arriving, with real processes.

The sandbox (`megafon sandbox serve`) serves the feeds; a `megafon worker` polls them at the
default poll interval (what a source gets when nobody changes it) and e-mails through an
aiosmtpd SMTP server in its own process (tests.smtp.SpoolHandler, which names every message
file by the nanosecond it arrived). One user subscribes, for immediate e-mail, to a
high-priority watchlist. Items that match it are added to random feeds at random moments
(POST /sandbox/api/feeds/<name>/items), each a different story so dedupe never merges them;
the latency of each is the time from the POST to its e-mail reaching the SMTP server.

    python bench/b5_alert_latency.py [--items 20] [--feeds 4] [--interval SECONDS]
                                     [--window SECONDS] [--database-url URL]

Without --interval the sources keep the default; without --window items are spread over two
intervals. Prints a line per item, and last `B5 p50_s=… p95_s=…` (target: at most 60 s).
"""

from __future__ import annotations

import argparse
import base64
import email
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from email.header import decode_header, make_header
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from core import migrate  # noqa: E402
from core.auth import create_user  # noqa: E402
from core.db import Database  # noqa: E402
from core.users import Role  # noqa: E402
from monitor.models import (  # noqa: E402
    AlertSubscription,
    Priority,
    Source,
    SourceKind,
    Watchlist,
)
from tests.smtp import SmtpServer, free_port  # noqa: E402

QUERY = "Arvika AND akut*"
BOOT_TIMEOUT = 180
VOCABULARY = (
    "region kommun budget skola buss tåg vård äldreboende bibliotek simhall fritidsgård väg "
    "bro hamn elnät vindkraft skog älv sjö jakt fiske turism hotell festival teater museum "
    "idrottshall fotboll bandy hockey löptävling marknad torg butik fabrik industri pappersbruk "
    "sågverk lantbruk mejeri slakteri bageri restaurang kafé polis brandkår ambulans domstol "
    "länsstyrelse riksdag minister facket strejk varsel lön pension bostad hyresrätt bygglov "
    "detaljplan trafik olycka väder snö storm översvämning torka brand elpris bensin matpris "
    "inflation ränta bank lån företag nystart konkurs export import integration språk kultur "
    "konst musik kör orkester film bok författare journalist tidning radio podd föreläsning"
)
WORDS = VOCABULARY.split()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Sandbox:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "sandbox.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "sandbox", "serve", "--port", str(self.port),
             "--state", str(workdir / "sandbox.db")], cwd=ROOT, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/sandbox/api/feeds", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("the sandbox did not start (or has no feeds API yet)")

    def add_item(self, feed: str, title: str, text: str) -> None:
        response = requests.post(f"{self.url}/sandbox/api/feeds/{feed}/items",
                                 json={"title": title, "text": text}, timeout=10)
        response.raise_for_status()

    def feed_url(self, feed: str) -> str:
        return f"{self.url}/sandbox/feeds/{feed}.xml"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def story_text(rng: random.Random) -> str:
    """A different story every time: random words around the watched ones."""
    words = rng.sample(WORDS, 40)
    return (f"Akuten i Arvika {' '.join(words[:20])}.\n\n{' '.join(words[20:]).capitalize()}. "
            f"Regionen svarar {rng.randint(1, 10**9)}.")


def setup(database_url: str, feeds: list[str], sandbox: Sandbox,
          interval: int | None) -> tuple[str, int]:
    migrate.upgrade(database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            user = create_user(session, email=f"b5-{uuid.uuid4().hex[:6]}@example.org",
                               name="B5", password="correct horse battery", role=Role.COMMS)
            watchlist = Watchlist(name=f"Akuten i Arvika {uuid.uuid4().hex[:4]}", query=QUERY,
                                  priority=Priority.HIGH)
            session.add(watchlist)
            session.flush()
            session.add(AlertSubscription(user_id=user.id, watchlist_id=watchlist.id,
                                          immediate=True))
            for name in feeds:
                values = {"interval_seconds": interval} if interval else {}
                session.add(Source(name=f"B5 {name}", kind=SourceKind.FEED, outlet=name,
                                   url=sandbox.feed_url(name), **values))
            session.flush()
            default = session.scalar(select(Source.interval_seconds).limit(1))
        return user.email, int(default or 0)
    finally:
        db.dispose()


def wait_first_polls(database_url: str, count: int) -> None:
    """Wait until the worker has polled every source once, so no item rides a first poll."""
    db = Database(database_url)
    deadline = time.monotonic() + BOOT_TIMEOUT
    try:
        while time.monotonic() < deadline:
            with db.session() as session:
                done = session.scalars(select(Source.last_success_at)).all()
            if len(done) == count and all(done):
                return
            time.sleep(0.5)
    finally:
        db.dispose()
    raise RuntimeError("the worker did not poll every source (is the monitoring job wired "
                       "into `megafon worker`?)")


def arrivals(smtp: SmtpServer, to: str) -> list[tuple[str, float]]:
    """(subject, when the message reached the SMTP server, in seconds since the epoch)."""
    found = []
    for path in sorted(smtp.folder.glob("*.json")):
        record = json.loads(path.read_text())
        if to not in record["rcpt_tos"]:
            continue
        message = email.message_from_bytes(base64.b64decode(record["data"]))
        subject = str(make_header(decode_header(message["Subject"] or "")))
        found.append((subject, int(path.name.split("-", 1)[0]) / 1e9))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--interval", type=int, default=None,
                        help="poll interval of the sources (default: the sources' default)")
    parser.add_argument("--window", type=float, default=None,
                        help="seconds over which items are added (default: two intervals)")
    parser.add_argument("--database-url", default=os.environ.get("MEGAFON_DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="megafon-b5-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'megafon.db'}"
    feeds = [f"b5-{i}" for i in range(args.feeds)]
    sandbox = Sandbox(workdir)
    smtp = SmtpServer(workdir / "spool", workdir / "smtp.log")
    smtp.folder.mkdir()
    smtp.start()
    worker = None
    try:
        for name in feeds:  # the feeds exist, with something that matches nothing
            sandbox.add_item(name, "Väder", "Det blir kallt i helgen.")
        to, interval = setup(database_url, feeds, sandbox, args.interval)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEGAFON_")}
        env.update({
            "MEGAFON_DATABASE_URL": database_url, "MEGAFON_SMTP_URL": smtp.url,
            "MEGAFON_SANDBOX": "on", "MEGAFON_SANDBOX_URL": sandbox.url,
            "MEGAFON_FETCH_ALLOW": "127.0.0.1", "MEGAFON_SECRET_KEY": uuid.uuid4().hex,
            "MEGAFON_INSTANCE_PATH": str(workdir / "instance"), "MEGAFON_LOG_LEVEL": "WARNING",
        })
        worker_log = (workdir / "worker.log").open("wb")
        worker = subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=ROOT,
                                  env=env, stdout=worker_log, stderr=subprocess.STDOUT)
        wait_first_polls(database_url, len(feeds))
        window = args.window if args.window is not None else 2 * interval
        print(f"B5 setup: feeds={len(feeds)} interval_s={interval} items={args.items} "
              f"window_s={window:.0f} database={database_url.split(':', 1)[0]}", flush=True)

        started = time.time()
        moments = sorted(rng.uniform(0, window) for _ in range(args.items))
        added: dict[str, float] = {}
        for number, moment in enumerate(moments, 1):
            time.sleep(max(0.0, started + moment - time.time()))
            title = f"Akuten i Arvika, mätning {number} ({uuid.uuid4().hex[:6]})"
            at = time.time()
            sandbox.add_item(rng.choice(feeds), title, story_text(rng))
            added[title] = at

        deadline = time.time() + interval + 120
        latencies: dict[str, float] = {}
        while time.time() < deadline and len(latencies) < len(added):
            received = arrivals(smtp, to)
            for title, at in added.items():
                for subject, when in received:
                    if title in subject and title not in latencies:
                        latencies[title] = when - at
            time.sleep(0.5)
        for title in added:
            shown = f"{latencies[title]:.1f}" if title in latencies else "missing"
            print(f"  {title}: {shown}")
        duplicates = sum(1 for s, _ in arrivals(smtp, to) if "mätning" in s) - len(latencies)
        values = list(latencies.values())
        if not values:
            print("B5 p50_s=nan p95_s=nan (no e-mail arrived)")
            sys.exit(1)
        print(f"B5 items={len(added)} received={len(values)} missing={len(added) - len(values)} "
              f"interval_s={interval} max_s={max(values):.1f} duplicates={max(0, duplicates)}")
        print(f"B5 p50_s={percentile(values, 0.5):.1f} p95_s={percentile(values, 0.95):.1f}")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        smtp.stop()
        sandbox.stop()


if __name__ == "__main__":
    main()

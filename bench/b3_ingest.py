"""B3: one poll cycle over 500 loopback feeds — wall time, peak memory, and no parse for an
unchanged feed.

One local server process serves 500 RSS feeds of 20 items each, with ETag (304 when unchanged)
and gzip. A first cycle reads them all; then 20 % change and every source is made due again,
and the measured cycle runs the real poller: monitor.polling.run_polls with its thread pool
(8 threads on 2 cores), claims in the database, SafeFetcher, the XML check and feedparser, one
recording transaction per source. SQLite unless MEGAFON_DATABASE_URL says otherwise.

By default the whole ingest runs (`--ingest real`): matching against the district's
watchlists, dedupe and storing the mentions (monitor.mentions.ingest_and_alert).
`--ingest count` only counts the items, to see the poller and parser alone.

    python bench/b3_ingest.py [--feeds 500] [--changed 0.2] [--concurrency 8] [--ingest real]

Targets: ≤ 10 s a cycle on 2 cores, ≤ 300 MB, an unchanged feed costs no parse. The last line is
`B3 cycle_s=… peak_rss_mb=… parses_of_unchanged=…` (peak RSS of the whole run, first cycle
included).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
from sqlalchemy import select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from bench.words import WORDS  # noqa: E402
from cli.demo import WATCHLISTS  # noqa: E402
from cli.process import limit_malloc_arenas  # noqa: E402
from core import migrate  # noqa: E402
from core.clock import utcnow  # noqa: E402
from core.db import Database  # noqa: E402
from monitor.fetch import SafeFetcher  # noqa: E402
from monitor.items import Item  # noqa: E402
from monitor.models import Source, SourceKind, Watchlist  # noqa: E402
from monitor.polling import LiveIngest, run_polls  # noqa: E402
from monitor.sources import PollContext  # noqa: E402


class FeedParses:
    """How many times feedparser parsed each feed URL's body: the library's entry point wrapped
    for this run (monitor.sources.feeds parses only through it), so the bench measures the real
    poller without a counter in the product."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._parse = feedparser.parse
        feedparser.parse = self._counted

    def _counted(self, *args: Any, **kwargs: Any) -> Any:
        url = (kwargs.get("response_headers") or {}).get("content-location", "")
        with self._lock:
            self._counts[url] += 1
        return self._parse(*args, **kwargs)

    def of(self, url: str) -> int:
        with self._lock:
            return self._counts[url]


parses = FeedParses()


ITEMS_PER_FEED = 20
TOPICS = (
    "Värmlandstrafik drar in busslinjer i norra Värmland",
    "akuten vid sjukhuset i Arvika kan stänga nattetid",
    "hyrorna i allmännyttan höjs kraftigt",
    "kvinnojouren förlorar sitt stöd",
    "laxen i Klarälven hotas av dammarna",
    "rasistiskt klotter på skolan",
    "regionens budget visar underskott",
    "byskolan kan läggas ner",
    "nytt köpcentrum planeras vid motorvägen",
    "isen på Vänern är fortfarande tunn",
)
PLACES = ("Karlstad", "Arvika", "Torsby", "Kil", "Säffle", "Hagfors", "Kristinehamn", "Sunne")
PARTIES = ("Vänsterpartiet", "Socialdemokraterna", "Moderaterna", "Centerpartiet",
           "Sverigedemokraterna", "Miljöpartiet")


# -- the feed server (its own process) ------------------------------------------------------


def _sentence(rng: random.Random, length: int) -> str:
    words = [rng.choice(WORDS) for _ in range(length)]
    return " ".join(words).capitalize() + "."


def feed_body(n: int, version: int) -> bytes:
    """Feed n at `version`: each version puts new items on top and the older ones shift down.
    Texts are varied (no two articles read alike), and about half name a watched issue."""
    entries = []
    for i in range(ITEMS_PER_FEED):
        serial = version * 7 + ITEMS_PER_FEED - i
        rng = random.Random(n * 100_003 + serial)
        place = rng.choice(PLACES)
        topic = rng.choice(TOPICS) if rng.random() < 0.5 else rng.choice(WORDS)
        party = rng.choice(PARTIES)
        text = (f"I {place} säger {party} att {topic}. "
                + " ".join(_sentence(rng, rng.randint(8, 16)) for _ in range(4)))
        when = datetime(2025, 1, 6, tzinfo=UTC) + timedelta(minutes=serial)
        entries.append(
            f"<item><title>{escape(place)}: {escape(_sentence(rng, 6))}</title>"
            f"<link>https://news{n % 50}.example/artikel/{n}-{serial}</link>"
            f"<guid>news-{n}-{serial}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape('<p>' + text + '</p>')}</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Feed {n}</title><link>https://news{n % 50}.example/</link>"
            f"<description>B3</description>{''.join(entries)}</channel></rss>").encode()


def serve(port_out: Any, feeds: int) -> None:
    versions = Counter[int]()
    cache: dict[tuple[int, int], tuple[bytes, bytes, str]] = {}
    lock = threading.Lock()

    def rendered(n: int) -> tuple[bytes, bytes, str]:
        with lock:
            key = (n, versions[n])
        if key not in cache:
            body = feed_body(*key)
            cache[key] = (body, gzip.compress(body, 5), hashlib.md5(body).hexdigest())
        return cache[key]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802
            try:
                n = int(self.path.removeprefix("/feed/").removesuffix(".xml"))
            except ValueError:
                n = -1
            if not 0 <= n < feeds:
                self._answer(404, b"", {})
                return
            body, zipped, digest = rendered(n)
            etag = f'"{digest}"'
            headers = {"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"}
            if self.headers.get("If-None-Match") == etag:
                self._answer(304, b"", headers)
            elif "gzip" in self.headers.get("Accept-Encoding", ""):
                self._answer(200, zipped, {**headers, "Content-Encoding": "gzip"})
            else:
                self._answer(200, body, headers)

        def do_POST(self) -> None:  # noqa: N802 - /bump: these feeds get a new version
            changed = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                for n in changed:
                    versions[n] += 1
            self._answer(200, b"{}", {"Content-Type": "application/json"})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


# -- the benchmark --------------------------------------------------------------------------

class CountingIngest:
    """--ingest count: only counts items (the poller and parser alone)."""

    def __init__(self) -> None:
        self.items = 0
        self._lock = threading.Lock()

    def __call__(self, session: Session, source: Source, items: list[Item]) -> list[int]:
        with self._lock:
            self.items += len(items)
        return []


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--changed", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--ingest", choices=("count", "real"), default="real",
                        help="count: the poller alone; real: also match and store the stories "
                             "(monitor.mentions)")
    args = parser.parse_args()
    limit_malloc_arenas()  # as `megafon worker` does (cli.process)

    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.feeds), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=10)}"

    tmp = tempfile.TemporaryDirectory(prefix="megafon-b3-")
    scratch = contextlib.ExitStack()  # a database of this run's own (PostgreSQL or SQLite)
    url = scratch.enter_context(scratch_database(os.environ.get("MEGAFON_DATABASE_URL"),
                                                 Path(tmp.name), "b3"))
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        session.add_all(Watchlist(name=name, query=query, priority=priority)
                        for name, query, priority in WATCHLISTS)
        session.add_all(Source(name=f"Feed {n}", kind=SourceKind.FEED, outlet=f"Tidning {n}",
                               url=f"{base}/feed/{n}.xml", interval_seconds=300)
                        for n in range(args.feeds))
    with db.session() as session:
        ids = {sid: url for sid, url in session.execute(select(Source.id, Source.url))}
    fetcher = SafeFetcher(allow=["127.0.0.1"], timeout=10)
    ctx = PollContext(fetcher=fetcher)
    ingest = LiveIngest() if args.ingest == "real" else CountingIngest()

    started = time.perf_counter()
    first = run_polls(db, ctx, ingest, "b3", args.concurrency)
    first_s = time.perf_counter() - started
    print(f"first cycle: {len(first)} feeds, all new, {first_s:.2f} s, "
          f"{Counter(o.outcome for o in first)}")

    changed = set(range(0, args.feeds, round(1 / args.changed))) if args.changed else set()
    import requests

    requests.post(f"{base}/bump", json=sorted(changed), timeout=10)
    with db.session() as session:
        session.execute(update(Source).values(next_poll_at=utcnow()))
    unchanged_ids = [sid for sid, u in ids.items()
                     if int(u.rsplit("/", 1)[-1].removesuffix(".xml")) not in changed]
    before = {sid: parses.of(url) for sid, url in ids.items()}

    started = time.perf_counter()
    outcomes = run_polls(db, ctx, ingest, "b3", args.concurrency)
    cycle_s = time.perf_counter() - started

    counts = Counter(o.outcome for o in outcomes)
    unchanged_parses = sum(parses.of(ids[sid]) - before[sid] for sid in unchanged_ids)
    changed_parses = sum(parses.of(ids[sid]) - before[sid] for sid in ids
                         if sid not in set(unchanged_ids))
    print(f"measured cycle: {len(outcomes)} feeds ({len(changed)} changed), {cycle_s:.2f} s, "
          f"{dict(counts)}; parses: changed {changed_parses}, unchanged {unchanged_parses}; "
          f"new mentions {sum(o.items_new for o in outcomes)}; "
          f"concurrency {args.concurrency}, cpus {len(os.sched_getaffinity(0))}, ingest "
          f"{args.ingest}, {db.engine.dialect.name}")
    fetcher.close()
    db.dispose()
    scratch.close()
    server.terminate()
    tmp.cleanup()
    print(f"B3 cycle_s={cycle_s:.2f} peak_rss_mb={peak_rss_mb():.0f} "
          f"parses_of_unchanged={unchanged_parses}")


if __name__ == "__main__":
    main()

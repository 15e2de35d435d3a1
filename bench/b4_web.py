"""B4: the mention log, its filters, search and the dashboard under 20 concurrent clients, on a
PostgreSQL database of a million mentions, served by gunicorn as in production (issue 16).

Seeding. A database of the bench's own (`megafon_b4` by default, on the server that
MEGAFON_TEST_POSTGRES_URL names) is migrated with the real migrations (`core.migrate.upgrade`),
then filled with COPY: `--mentions` mentions over two years (200 watchlists, 50 outlets, 1–3
watchlists and one sighting per mention, Swedish-looking titles and ~1.5 kB texts that name
parties and the organisation's people) and `--posts` posts with their deliveries (published,
a few failed or cancelled, the last ones still scheduled). The column lists come from the live
database, so the same code fills today's schema and the one issue 16 brings (`mentions.sort_at`,
`mention_parties`, `mention_people`, `mention_watchlists.sort_at`, `outlets`): a table or column
that exists is filled, one that does not is skipped, and a required column nobody knows stops the
seed with its name. Secondary indexes are dropped for the COPY and built again after it (as a
restore does), foreign keys are not checked row by row (the rows are consistent by construction:
tests/bench/test_b4_seed.py), then VACUUM ANALYZE. The random seed is fixed. `--reuse` keeps a
database whose COMMENT (written last, so only a finished seed has it) names the same sizes, seed
format and migration head.

Load. For each page a fresh `gunicorn --workers 2 --threads 4 web.wsgi:app` (so no page inherits
the previous page's backlog), 20 clients logged in once through the real form (CSRF token, cookies
kept); first the median of 5 single requests with nothing else running, then every client
requests the page in a loop for `--seconds`. Requests still running at the end get `--grace`
seconds; the rest are cancelled and counted as unfinished, their time so far kept as a lower
bound (shown with ≥). Anything but a 200 is an error. The workers' peak RSS is VmHWM from
/proc, sampled through the run.

    python bench/b4_web.py [--mentions 1000000] [--posts 100000] [--reuse] [--seconds 60]
                           [--clients 20] [--pages log,filtered,…] [--report-path /…]

Targets: p95 ≤ 150 ms for every mention-log page and the dashboard, ≤ 500 ms for the board's
report page (last month), ≤ 1 s for a quarter's, the PDF ≤ 5 s (one request), each worker
≤ 300 MB. The last line is `B4 log_p95_ms=… filtered_p95_ms=… party_p95_ms=… search_p95_ms=…
deep_p95_ms=… dashboard_p95_ms=… report_p95_ms=… quarter_p95_ms=… pdf_s=… worker_rss_mb=…`
(`na` for a page not measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.words import WORDS  # noqa: E402
from core import migrate  # noqa: E402
from reports.post_issues import fingerprint  # noqa: E402

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEED = 16_4  # issue 16, benchmark 4
# Bump when the generated rows change, so --reuse does not keep a seed of another shape.
SEED_FORMAT = 2  # 2: post metrics and posts filed under issues
# A fixed key: sealed account credentials and login cookies stay valid across --reuse runs.
SECRET_KEY = "b4-bench-only-not-a-secret-0123456789abcdef"
USER_EMAIL = "b4@megafon.test"
USER_PASSWORD = "b4-bench-password"
DAYS = 730
WATCHLIST_COUNT = 200
CHUNK = 10_000  # mentions generated and copied at a time (memory stays flat)
# The mentions are made in this many parts (each its own id and time range, random stream and
# connection), as many at once as there are cpus: the rows do not depend on the machine.
PARTS = 4
TARGET_LOG_MS = 150
TARGET_REPORT_MS = 500
TARGET_QUARTER_MS = 1000
TARGET_PDF_S = 5.0
TARGET_RSS_MB = 300

# -- Swedish-looking words ---------------------------------------------------------------------

PLACES = ("Karlstad", "Arvika", "Torsby", "Kil", "Säffle", "Hagfors", "Kristinehamn", "Sunne",
          "Filipstad", "Grums", "Årjäng", "Eda", "Storfors", "Munkfors", "Forshaga", "Hammarö")
# (code, name in the text, share of the mentions naming it)
PARTIES = (("V", "Vänsterpartiet", 30), ("S", "Socialdemokraterna", 28),
           ("M", "Moderaterna", 22), ("SD", "Sverigedemokraterna", 16),
           ("C", "Centerpartiet", 10), ("KD", "Kristdemokraterna", 7),
           ("L", "Liberalerna", 6), ("MP", "Miljöpartiet", 6))
PARTY_COUNTS = (0, 1, 2, 3)
PARTY_COUNT_WEIGHTS = (30, 40, 20, 10)
FIRST_NAMES = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Mikael", "Lena",
               "Ahmed", "Fatima", "Olof", "Ingrid", "Nils", "Elin", "Hassan")
LAST_NAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
              "Persson", "Svensson", "Gustafsson", "Lindqvist", "Berg", "Hedlund", "Mohammed")
TOPICS = (
    ("Vården", "vård* OR sjukhus* OR akut*", "akuten kan stänga nattetid"),
    ("Kollektivtrafiken", "busslinje* OR kollektivtrafik*", "busslinjer dras in"),
    ("Skolan", "skola* OR skolan OR elev*", "byskolan kan läggas ner"),
    ("Bostäderna", "hyr* OR allmännytt*", "hyrorna höjs kraftigt"),
    ("Äldreomsorgen", "äldreomsorg* OR äldreboende*", "äldreboendet saknar personal"),
    ("Budgeten", "budget* OR underskott*", "budgeten visar underskott"),
    ("Klimatet", "klimat* OR utsläpp*", "utsläppen ökar igen"),
    ("Jobben", "varsel OR arbetslös*", "pappersbruket varslar"),
    ("Kvinnojouren", "kvinnojour*", "kvinnojouren förlorar sitt stöd"),
    ("Vägarna", "väg* OR bro*", "bron stängs för tung trafik"),
    ("Biblioteket", "bibliotek*", "biblioteket får kortare öppettider"),
    ("Simhallen", "simhall*", "simhallen kan stänga"),
    ("Polisen", "polis*", "polisen flyttar från orten"),
    ("Vindkraften", "vindkraft*", "vindkraftsparken överklagas"),
    ("Elpriset", "elpris*", "elpriset slår rekord"),
    ("Förskolan", "förskola*", "barngrupperna växer"),
    ("Integrationen", "integration* OR nyanländ*", "språkundervisningen skärs ner"),
    ("Kulturen", "kultur* OR teater*", "teatern förlorar bidraget"),
    ("Landsbygden", "landsbygd*", "servicen på landsbygden försvinner"),
    ("Rasismen", "rasis*", "rasistiskt klotter på skolan"),
)
PAPER_KINDS = ("Tidning", "Nyheter", "Kuriren", "Posten", "Bladet")


def outlet_names() -> list[str]:
    """50 outlets: a few regional ones, a local paper or two per place, X and clippings."""
    names = ["NWT", "VF", "SVT Värmland", "P4 Värmland", "Expressen", "Aftonbladet",
             "Dagens Nyheter", "Svenska Dagbladet", "X", "Pressklipp"]
    for i, kind in enumerate(p for p in PAPER_KINDS for _ in PLACES):
        if len(names) == 50:
            break
        names.append(f"{PLACES[i % len(PLACES)]}s {kind}")
    return names


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(str.maketrans("åäö", "aao")))[:60]


# -- the live schema -------------------------------------------------------------------------

@dataclass
class Column:
    name: str
    required: bool  # NOT NULL, no default, not generated: a COPY must give it


@dataclass
class Table:
    name: str
    columns: dict[str, Column]


def read_schema(conn: psycopg.Connection) -> dict[str, Table]:
    """Every table of the public schema with its writable columns, as the database has them now
    (whatever migration it is at): what the seed fills is decided here, never hard-coded."""
    tables: dict[str, Table] = {}
    for table, column, nullable, default, generated, identity in conn.execute(
            "SELECT table_name, column_name, is_nullable, column_default, is_generated, "
            "is_identity FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY table_name, ordinal_position"):
        if generated == "ALWAYS":
            continue  # a generated column (a tsvector, say) is the database's to fill
        required = nullable == "NO" and default is None and identity != "YES"
        tables.setdefault(table, Table(table, {})).columns[column] = Column(column, required)
    return tables


class Copier:
    """COPY rows into whichever of their columns the live table has. Rows come as tuples in the
    order of `known`; columns the table lacks are left out, a required column not in `known`
    stops the seed with its name (the schema moved on in a way the bench must learn)."""

    def __init__(self, conn: psycopg.Connection, schema: dict[str, Table]) -> None:
        self.conn = conn
        self.schema = schema
        self.rows: Counter[str] = Counter()

    def has(self, table: str, column: str | None = None) -> bool:
        found = self.schema.get(table)
        return found is not None and (column is None or column in found.columns)

    def copy(self, table: str, known: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        if table not in self.schema:
            return
        live = self.schema[table].columns
        missing = [c.name for c in live.values() if c.required and c.name not in known]
        if missing:
            raise SystemExit(f"B4 seed: {table}.{', '.join(missing)} must be given and the bench "
                             f"does not know what to put there; teach bench/b4_web.py")
        used = [i for i, name in enumerate(known) if name in live]
        pick = itemgetter(*used)
        names = [known[i] for i in used]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)))
        count = 0
        with self.conn.cursor().copy(statement) as copy:
            if len(used) == 1:
                for row in rows:
                    copy.write_row((pick(row),))
                    count += 1
            else:
                for row in rows:
                    copy.write_row(pick(row))
                    count += 1
        self.rows[table] += count


# -- generating the rows ---------------------------------------------------------------------

MENTION_COLUMNS = ("id", "title", "url", "normalized_url", "outlet", "outlet_id", "source_kind",
                   "text", "published_at", "first_seen_at", "sort_at", "signature", "hits",
                   "parties", "people", "triage", "assigned_to_id", "note", "response_post_id",
                   "updated_at")
SIGHTING_COLUMNS = ("id", "mention_id", "source_id", "item_key", "url", "normalized_url",
                    "title", "outlet", "seen_at")


@dataclass
class World:
    """What the generated rows refer to: outlets, sources, watchlists, people, users."""

    end: datetime
    outlets: list[str]
    sources: list[tuple[int, str, str]]  # (id, kind, outlet)
    source_weights: list[float]
    watchlist_cum: list[float]
    people: list[tuple[int, str]]
    users: list[int]
    accounts: list[int]
    sentences: list[str]
    signatures: list[str]


def sentence_pool(rng: random.Random, size: int) -> list[str]:
    """Sentences to build texts from: picking whole sentences keeps a 1.5 kB text cheap to make
    while no two texts read alike."""
    pool = []
    for _ in range(size):
        words = rng.choices(WORDS, k=rng.randint(7, 16))
        pool.append(" ".join(words).capitalize() + ".")
    return pool


def signature_pool(rng: random.Random, sentences: list[str], size: int) -> list[str]:
    """Real MinHash signatures (monitor.dedupe), of real size; computing one per mention would
    take longer than the whole seed, so mentions share a pool."""
    from monitor.dedupe import signature_of

    return [signature_of("", " ".join(rng.choices(sentences, k=14))).dumps()
            for _ in range(size)]


def cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def pick(rng: random.Random, items: Sequence[Any], cum: list[float]) -> Any:
    """A weighted choice, without random.choices' per-call set-up (a million times)."""
    return items[bisect_right(cum, rng.random() * cum[-1])]


def mention_rows(world: World, rng: random.Random, first_id: int, times: list[float]
                 ) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the mentions whose first-seen moments (seconds before `end`) are `times`,
    for every table a mention fills."""
    out: dict[str, list[tuple[Any, ...]]] = {
        "mentions": [], "sightings": [], "mention_watchlists": [], "mention_parties": [],
        "mention_people": []}
    mentions, sightings = out["mentions"], out["sightings"]
    mention_watchlists, mention_parties = out["mention_watchlists"], out["mention_parties"]
    mention_people = out["mention_people"]
    party_codes = [p[0] for p in PARTIES]
    party_names = {p[0]: p[1] for p in PARTIES}
    party_cum = cumulative(p[2] for p in PARTIES)
    count_cum = cumulative(PARTY_COUNT_WEIGHTS)
    source_cum = cumulative(world.source_weights)
    watchlist_ids = range(1, WATCHLIST_COUNT + 1)
    sentences, end, signatures = world.sentences, world.end, world.signatures
    outlet_ids = {name: i for i, name in enumerate(world.outlets, 1)}
    outlet_slugs = {name: slug(name) for name in world.outlets}
    topic_slugs = {topic[2]: slug(topic[2]) for topic in TOPICS}
    random_ = rng.random
    for offset, ago in enumerate(times):
        mention_id = first_id + offset
        source_id, kind, outlet = pick(rng, world.sources, source_cum)
        place = rng.choice(PLACES)
        name, _query, story = rng.choice(TOPICS)
        parties = list(dict.fromkeys(pick(rng, party_codes, party_cum)
                                     for _ in range(pick(rng, PARTY_COUNTS, count_cum))))
        people = rng.sample(world.people, 1 + (random_() < 0.3)) if random_() < 0.12 else []
        title = f"{place}: {story} – {rng.choice(sentences)[:-1].lower()}"[:140]
        body = [f"I {place} säger {name.lower()}s företrädare att {story}."]
        body += [f"{party_names[c]} kräver besked." for c in parties]
        body += [f"– Det här är orimligt, säger {person}." for _, person in people]
        body += rng.choices(sentences, k=rng.randint(10, 17))
        text = " ".join(body[:6]) + "\n\n" + " ".join(body[6:])
        word = story.split(" ", 1)[0]
        at = len(title) + 2 + text.find(story)
        hits = (f'[{{"term": "{place.lower()}", "start": 0, "end": {len(place)}, '
                f'"text": "{place}"}}, {{"term": "{word}", "start": {at}, '
                f'"end": {at + len(word)}, "text": "{word}"}}]')
        first_seen = end - timedelta(seconds=ago)
        published = (None if kind == "manual" or random_() < 0.05
                     else first_seen - timedelta(seconds=rng.randint(60, 6 * 3600)))
        sort_at = published or first_seen
        url = (None if kind == "manual" else
               f"https://{outlet_slugs[outlet]}.example/artikel/{mention_id}-{topic_slugs[story]}")
        roll = random_()
        if ago > 14 * 86400:  # older mentions have mostly been triaged
            triage = "new" if roll < 0.1 else "relevant" if roll < 0.7 else "not_relevant"
        else:
            triage = "new" if roll < 0.7 else "relevant" if roll < 0.9 else "not_relevant"
        assigned = (rng.choice(world.users) if triage == "relevant" and random_() < 0.2
                    else None)
        mentions.append((
            mention_id, title, url, url, outlet, outlet_ids[outlet], kind, text, published,
            first_seen, sort_at, rng.choice(signatures), hits, ",".join(parties),
            ",".join(str(pid) for pid, _ in people), triage, assigned, None, None, first_seen))
        sightings.append((mention_id, mention_id, source_id, url or f"manual:{mention_id}", url,
                          url, title, outlet, first_seen))
        for watchlist_id in sorted({pick(rng, watchlist_ids, world.watchlist_cum)
                                    for _ in range(rng.randint(1, 3))}):
            mention_watchlists.append((mention_id, watchlist_id, sort_at))
        for code in parties:
            mention_parties.append((mention_id, code, sort_at))
        for pid, _ in people:
            mention_people.append((mention_id, pid, sort_at))
    return out


def post_rows(world: World, rng: random.Random, count: int, filed_version: str
              ) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(table, row) for `count` posts over the same two years and the month to come: one or two
    deliveries each, published with a few failed or cancelled, the future ones scheduled; each
    published one with one to three fetches of its metrics (growing), and each post filed under
    none to two issues (post_watchlists) under the current queries' fingerprint, as
    reports.post_issues leaves them."""
    span = (DAYS + 30) * 86400
    moments = sorted(rng.random() * span for _ in range(count))
    start = world.end - timedelta(days=DAYS)
    delivery_id = event_id = metric_id = 0
    watchlist_ids = range(1, WATCHLIST_COUNT + 1)
    for post_id, at in enumerate(moments, start=1):
        scheduled = start + timedelta(seconds=at)
        created = scheduled - timedelta(seconds=rng.randint(600, 5 * 86400))
        text = " ".join(rng.choices(world.sentences, k=rng.randint(1, 3)))[:270]
        link = (f"https://vansterpartiet.example/varmland/{post_id}" if rng.random() < 0.3
                else None)
        yield "posts", (post_id, rng.choice(world.users), text, link, None, scheduled, created)
        if scheduled <= world.end:
            for watchlist_id in sorted({pick(rng, watchlist_ids, world.watchlist_cum)
                                        for _ in range(rng.choice((0, 1, 1, 2)))}):
                yield "post_watchlists", (post_id, watchlist_id)
            yield "post_classifications", (post_id, filed_version, scheduled)
        for account_id in rng.sample(world.accounts, rng.choice((1, 1, 2))):
            delivery_id += 1
            if scheduled > world.end:
                state, updated, published, attempts = "scheduled", created, None, 0
            else:
                state = rng.choices(("published", "failed", "cancelled"), weights=(95, 3, 2))[0]
                attempts = 0 if state == "cancelled" else 1
                published = (scheduled + timedelta(seconds=rng.randint(1, 20))
                             if state == "published" else None)
                updated = published or scheduled + timedelta(seconds=5)
            external = f"{1_800_000_000_000 + delivery_id}" if published else None
            yield "deliveries", (
                delivery_id, post_id, account_id, state, scheduled, scheduled,
                scheduled if attempts else None, attempts, external,
                f"https://x.example/status/{external}" if external else None,
                "permanent" if state == "failed" else None,
                "187" if state == "failed" else None,
                "Status is a duplicate." if state == "failed" else None, published, updated)
            if published is not None:
                base = rng.randint(0, 60)
                for fetch in range(1, rng.randint(1, 3) + 1):
                    metric_id += 1
                    yield "post_metrics", (
                        metric_id, delivery_id, published + timedelta(hours=fetch ** 2),
                        base * fetch, base * fetch // 5, fetch, base // 10,
                        200 * base * fetch if account_id % 2 else None, base // 8)
            event_id += 1
            yield "delivery_events", (event_id, delivery_id, created, None, "scheduled", None)
            if state != "scheduled":
                event_id += 1
                yield "delivery_events", (event_id, delivery_id, updated,
                                          "sending" if attempts else "scheduled", state, None)


POST_COLUMNS = ("id", "author_id", "text", "link", "first_comment", "scheduled_at", "created_at")
DELIVERY_COLUMNS = ("id", "post_id", "account_id", "state", "due_at", "next_attempt_at",
                    "first_attempt_at", "attempts", "external_id", "external_url", "error_kind",
                    "error_code", "error_message", "published_at", "updated_at")
EVENT_COLUMNS = ("id", "delivery_id", "at", "from_state", "to_state", "detail")
METRIC_COLUMNS = ("id", "delivery_id", "fetched_at", "likes", "reposts", "replies", "quotes",
                  "impressions", "comments")
POST_TABLES = {"posts": POST_COLUMNS, "deliveries": DELIVERY_COLUMNS,
               "delivery_events": EVENT_COLUMNS, "post_metrics": METRIC_COLUMNS,
               "post_watchlists": ("post_id", "watchlist_id"),
               "post_classifications": ("post_id", "version", "classified_at")}


# -- seeding ---------------------------------------------------------------------------------

def libpq(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy's URL names the driver."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def database_url(server_url: str, name: str) -> str:
    return server_url.rpartition("/")[0] + "/" + name


def migration_head() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://unused"))
    return str(script.get_current_head())


def seed_marker(mentions: int, posts: int) -> dict[str, Any]:
    return {"b4": {"mentions": mentions, "posts": posts, "format": SEED_FORMAT,
                   "revision": migration_head()}}


def existing_marker(server_url: str, name: str) -> dict[str, Any] | None:
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                           "WHERE datname = %s", (name,)).fetchone()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def create_users_and_accounts(url: str) -> tuple[list[int], list[int]]:
    """The benchmark's user (comms, who logs in 20 times), three colleagues to assign mentions to,
    and four accounts, through the application's own code (password hashes, sealed credentials)."""
    from core.auth import create_user
    from core.crypto import CredentialBox
    from core.db import Database
    from core.users import Role
    from publisher.models import Account, Platform

    db = Database(url)
    box = CredentialBox(SECRET_KEY)
    with db.session() as session:
        users = [create_user(session, email=USER_EMAIL, name="B4 Kommunikatör",
                             password=USER_PASSWORD, role=Role.COMMS)]
        users += [create_user(session, email=f"kollega{i}@megafon.test",
                              name=f"{FIRST_NAMES[i]} {LAST_NAMES[i]}", password=USER_PASSWORD,
                              role=Role.COMMS) for i in range(3)]
        accounts = []
        for i, platform in enumerate((Platform.X, Platform.X, Platform.FACEBOOK,
                                      Platform.FACEBOOK)):
            account = Account(platform=platform, name=f"Vänsterpartiet Värmland {i + 1}",
                              handle=f"vvarmland{i + 1}", external_id=f"{9000 + i}",
                              organisation_id=users[0].organisation_id,
                              credentials_sealed=box.seal({"token": f"bench-{i}"}))
            session.add(account)
            accounts.append(account)
        session.flush()
        ids = [u.id for u in users], [a.id for a in accounts]
    db.dispose()
    return ids


def secondary_indexes(conn: psycopg.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of these tables that no constraint owns: dropped before
    the COPY and built again after it, as a restore does (one sort instead of a million inserts
    into each b-tree or GIN)."""
    return conn.execute(
        "SELECT ci.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ci ON ci.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = 'public' AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(tables),)).fetchall()


def seed_mentions_part(job: tuple[str, World, int, int]) -> Counter[str]:
    """Part `part` of `total` mentions, with their sightings and their watchlist, party and
    people rows, COPYed over a connection of its own (a process of the seed's pool)."""
    dsn, world, part, total = job
    rng = random.Random(f"{SEED}-{part}")
    first, last = total * part // PARTS, total * (part + 1) // PARTS
    span = DAYS * 86400 / PARTS
    oldest = DAYS * 86400 - span * part  # part 0 holds the oldest mentions, the lowest ids
    times = sorted((oldest - rng.random() * span for _ in range(last - first)), reverse=True)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        copier = Copier(conn, read_schema(conn))
        for at in range(0, last - first, CHUNK):
            rows = mention_rows(world, rng, first + at + 1, times[at:at + CHUNK])
            copier.copy("mentions", MENTION_COLUMNS, rows["mentions"])
            copier.copy("sightings", SIGHTING_COLUMNS, rows["sightings"])
            copier.copy("mention_watchlists", ("mention_id", "watchlist_id", "sort_at"),
                        rows["mention_watchlists"])
            copier.copy("mention_parties", ("mention_id", "party", "sort_at"),
                        rows["mention_parties"])
            copier.copy("mention_people", ("mention_id", "person_id", "sort_at"),
                        rows["mention_people"])
        conn.commit()
    print(f"  part {part + 1}/{PARTS}: {last - first:,} mentions, "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return copier.rows


def seed(server_url: str, name: str, mentions: int, posts: int) -> dict[str, float]:
    """A fresh database `name` with the real schema and the seeded rows, marked as a finished
    seed of this size (for --reuse) only at the end; returns timings."""
    started = time.perf_counter()
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(server_url, name)
    migrate.upgrade(url)
    migrated = time.perf_counter() - started
    timings = {"migrate_s": migrated, **fill(url, mentions, posts)}
    timings["total_s"] = time.perf_counter() - started
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(json.dumps(seed_marker(mentions, posts)))))
    return timings


def fill(url: str, mentions: int, posts: int) -> dict[str, float]:
    """Seed a migrated, empty database; returns timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    users, accounts = create_users_and_accounts(url)

    rng = random.Random(SEED)
    sentences = sentence_pool(rng, 5000)
    outlets = outlet_names()
    sources: list[tuple[int, str, str]] = []
    weights: list[float] = []
    for i, outlet in enumerate(outlets):
        kinds = {"X": ("x_search",), "Pressklipp": ("manual",)}.get(
            outlet, ("feed", "page") if i < 12 else ("feed",))
        for kind in kinds:
            sources.append((len(sources) + 1, kind, outlet))
            # regional outlets write most; X is a big source too
            weights.append((8.0 if i < 4 or outlet == "X" else 1.0) * (0.3 if kind == "page"
                                                                          else 1.0))
    watchlist_weights = [1 / (rank + 8) ** 0.8 for rank in range(WATCHLIST_COUNT)]
    rng.shuffle(watchlist_weights)
    cum, total = [], 0.0
    for weight in watchlist_weights:
        total += weight
        cum.append(total)
    people = [(i + 1, f"{FIRST_NAMES[i % 16]} {LAST_NAMES[(i * 5) % 14]}") for i in range(30)]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    world = World(end=end, outlets=outlets, sources=sources, source_weights=weights,
                  watchlist_cum=cum, people=people, users=users, accounts=accounts,
                  sentences=sentences, signatures=signature_pool(rng, sentences, 300))

    filled = ("mentions", "sightings", "mention_watchlists", "mention_parties", "mention_people",
              "posts", "deliveries", "delivery_events", "post_metrics", "post_watchlists",
              "post_classifications", "sources", "watchlists", "people", "outlets")
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # no row-by-row FK checks
        conn.execute("SET synchronous_commit = off")
        schema = read_schema(conn)
        indexes = secondary_indexes(conn, filled)
        for index_name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index_name)))
        copier = Copier(conn, schema)
        copier.copy("outlets", ("id", "name"), ((i, o) for i, o in enumerate(outlets, 1)))
        copier.copy("sources", ("id", "name", "kind", "outlet", "url", "config",
                                "interval_seconds", "state", "consecutive_failures",
                                "next_poll_at", "created_at"),
                    ((sid, f"{outlet} ({kind})", kind, outlet,
                      None if kind == "manual" else f"https://{slug(outlet)}.example/{kind}.xml",
                      "{}", 300, "ok", 0, end, end - timedelta(days=DAYS))
                     for sid, kind, outlet in sources))
        topics_places = [(t, p) for t in TOPICS for p in PLACES][:WATCHLIST_COUNT]
        queries = [SimpleNamespace(id=i, query=f"({t[1]}) AND {p}")
                   for i, (t, p) in enumerate(topics_places, 1)]
        filed_version = fingerprint(queries)  # type: ignore[arg-type]
        copier.copy("watchlists", ("id", "name", "query", "priority", "active", "created_at",
                                   "updated_at"),
                    ((i, f"{t[0]} i {p}", f"({t[1]}) AND {p}", "high" if i % 10 == 0
                      else "normal", True, end - timedelta(days=DAYS), end - timedelta(days=DAYS))
                     for i, (t, p) in enumerate(topics_places, 1)))
        copier.copy("people", ("id", "name", "aliases", "party", "title"),
                    ((pid, pname, pname.split()[-1], "V", "Kandidat") for pid, pname in people))
        timings["setup_s"] = time.perf_counter() - started

        conn.commit()
        copy_started = time.perf_counter()
        parts = [(libpq(url), world, p, mentions) for p in range(PARTS)]
        with multiprocessing.get_context("fork").Pool(min(PARTS, os.cpu_count() or 1)) as pool:
            running = pool.map_async(seed_mentions_part, parts)
            posts_started = time.perf_counter()
            by_table: dict[str, list[tuple[Any, ...]]] = {table: [] for table in POST_TABLES}
            for table, row in post_rows(world, rng, posts, filed_version):
                by_table[table].append(row)
            for table, columns in POST_TABLES.items():
                copier.copy(table, columns, by_table[table])
            del by_table
            timings["posts_s"] = time.perf_counter() - posts_started
            for counted in running.get():
                copier.rows.update(counted)
        timings["copy_s"] = time.perf_counter() - copy_started

        index_started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        for table in filled:
            if copier.has(table, "id"):
                conn.execute(sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                    "(SELECT coalesce(max(id), 0) + 1 FROM {i}), false) "
                    "WHERE pg_get_serial_sequence({t}, 'id') IS NOT NULL").format(
                        t=sql.Literal(table), i=sql.Identifier(table)))
        conn.commit()
        timings["indexes_s"] = time.perf_counter() - index_started

    vacuum_started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    timings["vacuum_s"] = time.perf_counter() - vacuum_started
    timings["size_mb"] = (size[0] if size else 0) / 2**20
    print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in copier.rows.items()))
    return timings


# -- serving ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, for the master)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry))
    return found


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the most resident memory the process ever had."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Gunicorn:
    """`gunicorn --workers 2 --threads 4 web.wsgi:app` with the production settings."""

    def __init__(self, url: str, workers: int, threads: int, instance: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MEGAFON_DATABASE_URL": url, "MEGAFON_SECRET_KEY": SECRET_KEY,
               "MEGAFON_INSTANCE_PATH": str(instance), "MEGAFON_SANDBOX": "off",
               "MEGAFON_LOG_LEVEL": "WARNING"}
        self.log = (instance / "gunicorn.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", str(threads), "web.wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.peaks: dict[int, float] = {}

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see "
                                 f"{self.log.name}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s")

    def sample_rss(self) -> None:
        for pid in children(self.process.pid):
            peak = peak_rss_mb(pid)
            if peak is not None:
                self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))

    def stop(self, url: str) -> None:
        """Quick shutdown, and the database told to drop whatever the workers left running."""
        self.sample_rss()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND pid <> pg_backend_pid()")
        self.log.close()


# -- the load --------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


async def log_in(base: str) -> httpx.Cookies:
    """One client's cookies after logging in through the form, as a browser would."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/login")
        found = CSRF.search(page.text)
        if page.status_code != 200 or not found:
            raise SystemExit(f"B4: no login form at /login ({page.status_code})")
        answer = await client.post("/login", data={
            "csrf_token": found.group(1) or found.group(2), "email": USER_EMAIL,
            "password": USER_PASSWORD})
        if answer.status_code != 302:
            raise SystemExit(f"B4: logging in answered {answer.status_code}, not a redirect")
        return client.cookies


@dataclass
class Result:
    """What one page did under load."""

    latencies: list[float] = field(default_factory=list)  # s, finished requests
    unfinished: list[float] = field(default_factory=list)  # s so far, cancelled at the end
    errors: Counter[str] = field(default_factory=Counter)
    window_s: float = 0.0

    def percentile(self, share: float) -> tuple[float, bool]:
        """Nearest rank over every request; True when an unfinished request ranks at or below
        it (its real time is longer, so the figure is then a lower bound)."""
        samples = sorted([(t, False) for t in self.latencies] + [(t, True)
                                                                 for t in self.unfinished])
        if not samples:
            return math.nan, False
        rank = max(0, math.ceil(share * len(samples)) - 1)
        return samples[rank][0], any(unfinished for _, unfinished in samples[:rank + 1])

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.window_s if self.window_s else 0.0


async def drive(base: str, path: str, cookies: list[httpx.Cookies], seconds: float,
                grace: float, on_tick: Callable[[], None]) -> Result:
    """Every client requests `path` again as soon as its answer is read, for `seconds`."""
    result = Result()
    started = time.perf_counter()
    deadline = started + seconds
    last_end = started
    in_flight: dict[int, float] = {}

    async def client_loop(n: int, jar: httpx.Cookies) -> None:
        nonlocal last_end
        async with httpx.AsyncClient(base_url=base, cookies=jar, timeout=None) as client:
            while time.perf_counter() < deadline:
                t0 = in_flight[n] = time.perf_counter()
                try:
                    answer = await client.get(path)
                    if answer.status_code != 200:
                        result.errors[str(answer.status_code)] += 1
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                end = time.perf_counter()
                del in_flight[n]
                result.latencies.append(end - t0)
                last_end = max(last_end, end)

    async def sampler() -> None:
        while True:
            on_tick()
            await asyncio.sleep(1)

    ticking = asyncio.create_task(sampler())
    tasks = [asyncio.create_task(client_loop(n, jar)) for n, jar in enumerate(cookies)]
    await asyncio.wait(tasks, timeout=seconds + grace)
    now = time.perf_counter()
    result.unfinished = [now - t0 for t0 in in_flight.values()]
    for task in tasks + [ticking]:
        task.cancel()
    await asyncio.gather(*tasks, ticking, return_exceptions=True)
    result.window_s = max(last_end, deadline) - started
    return result


async def unloaded(base: str, path: str, jar: httpx.Cookies, times: int = 5) -> tuple[float, int]:
    """Median seconds of single requests with nothing else running; and the last status."""
    spent, status = [], 0
    async with httpx.AsyncClient(base_url=base, cookies=jar, timeout=None) as client:
        for _ in range(times):
            t0 = time.perf_counter()
            answer = await client.get(path)
            spent.append(time.perf_counter() - t0)
            status = answer.status_code
    return statistics.median(spent), status


@dataclass
class PageSpec:
    key: str  # the name in the last line: <key>_p95_ms
    label: str
    path: str | None
    target_ms: int


def chosen_watchlist(url: str, mentions: int) -> tuple[int, int]:
    """The watchlist whose count is nearest 6 per thousand of the mentions (6k at a million,
    as in the issue), and that count."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute("SELECT watchlist_id, count(*) FROM mention_watchlists "
                            "GROUP BY watchlist_id").fetchall()
    if not rows:
        raise SystemExit("B4: no mention has a watchlist")
    wanted = 0.006 * mentions
    return min(rows, key=lambda r: (abs(r[1] - wanted), r[0]))


def report_path(explicit: str | None, url: str, instance: Path) -> str | None:
    """The board's report page: given, or the index of a blueprint named report/board if the
    app has one (issue 15); None until it exists."""
    if explicit:
        return explicit
    from core.settings import Settings
    from web import create_app

    app = create_app(Settings.from_env({}, instance_path=instance, database_url=url,
                                       sandbox="off", secret_key=SECRET_KEY,
                                       log_level="WARNING"))
    for rule in app.url_map.iter_rules():
        blueprint, _, view = rule.endpoint.partition(".")
        if (blueprint.startswith(("report", "board")) and view == "index"
                and not rule.arguments and "GET" in (rule.methods or ())):
            return rule.rule
    return None


def fmt_ms(value: float, lower_bound: bool = False) -> str:
    if math.isnan(value):
        return "–"
    return ("≥" if lower_bound else "") + f"{value * 1000:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database if it holds a seed of this size and schema")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--server-url", default=os.environ.get("MEGAFON_TEST_POSTGRES_URL")
                        or DEFAULT_SERVER_URL, help="the PostgreSQL server (any database on it)")
    parser.add_argument("--database", default="megafon_b4")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--grace", type=float, default=30,
                        help="how long requests still running at the end may finish")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pages",
                        default="log,filtered,party,search,deep,dashboard,report,quarter,pdf")
    parser.add_argument("--deep-path",
                        default=f"/mentions?day={(date.today() - timedelta(days=400)).isoformat()}",
                        help="the deep jump: the log opened at a day about 400 days back "
                             "(keyset paging; a page number is no longer offered)")
    parser.add_argument("--report-path", help="the board's report page (found by itself once "
                                              "the app has a report blueprint)")
    args = parser.parse_args()

    url = database_url(args.server_url, args.database)
    marker = existing_marker(args.server_url, args.database) if args.reuse else None
    if marker == seed_marker(args.mentions, args.posts):
        print(f"seed: reusing {args.database} ({args.mentions:,} mentions, {args.posts:,} posts, "
              f"revision {marker['b4']['revision']})")
    else:
        print(f"seed: {args.mentions:,} mentions and {args.posts:,} posts into {args.database} "
              f"(COPY, cpus {len(os.sched_getaffinity(0))})", flush=True)
        timings = seed(args.server_url, args.database, args.mentions, args.posts)
        print("  " + ", ".join(f"{k} {v:,.1f}" for k, v in timings.items()))
    if args.seed_only:
        return

    watchlist_id, watchlist_count = chosen_watchlist(url, args.mentions)
    instance = Path(tempfile.mkdtemp(prefix="megafon-b4-"))
    report = report_path(args.report_path, url, instance)
    specs = [
        PageSpec("log", "mention log, first page", "/mentions", TARGET_LOG_MS),
        PageSpec("filtered", f"one issue ({watchlist_count:,} mentions)",
                 f"/mentions?watchlist={watchlist_id}", TARGET_LOG_MS),
        PageSpec("party", "party V", "/mentions?party=V", TARGET_LOG_MS),
        PageSpec("search", "search “arvika”", "/mentions?q=arvika", TARGET_LOG_MS),
        PageSpec("deep", "deep jump", args.deep_path, TARGET_LOG_MS),
        PageSpec("dashboard", "dashboard", "/", TARGET_LOG_MS),
        PageSpec("report", "board's report", report, TARGET_REPORT_MS),
        PageSpec("quarter", "board's report, a quarter",
                 f"{report}?period=last-quarter" if report else None, TARGET_QUARTER_MS),
    ]
    wanted = set(args.pages.split(","))
    results: dict[str, tuple[PageSpec, float, Result]] = {}
    peaks: list[float] = []
    cookies: list[httpx.Cookies] = []
    print(f"load: {args.clients} clients, {args.seconds:.0f} s a page, gunicorn --workers "
          f"{args.workers} --threads {args.threads}, a fresh server per page; log in "
          f"{instance / 'gunicorn.log'}")
    for spec in specs:
        if spec.key not in wanted or spec.path is None:
            continue
        server = Gunicorn(url, args.workers, args.threads, instance)
        try:
            server.wait_healthy()
            if not cookies:
                cookies = [asyncio.run(log_in(server.base)) for _ in range(args.clients)]
            idle, status = asyncio.run(unloaded(server.base, spec.path, cookies[0]))
            print(f"  {spec.path}: one request, idle: median {fmt_ms(idle)} ms (status {status})",
                  flush=True)
            result = asyncio.run(drive(server.base, spec.path, cookies, args.seconds, args.grace,
                                       server.sample_rss))
        finally:
            server.stop(url)
        peaks.extend(server.peaks.values())
        results[spec.key] = (spec, idle, result)
        p95, bound = result.percentile(0.95)
        errors = ", ".join(f"{k}×{n}" for k, n in result.errors.items()) or "none"
        print(f"  {spec.path}: {len(result.latencies)} requests, p95 {fmt_ms(p95, bound)} ms, "
              f"{result.rate:.1f}/s, errors {errors}, unfinished {len(result.unfinished)}, "
              f"worker peak {max(server.peaks.values(), default=0):.0f} MB", flush=True)

    pdf_s = math.nan
    if report and "pdf" in wanted:
        # The board paper: single requests (a person downloads it, twenty do not at once), the
        # month's snapshot already counted by the report page above, as after a meeting opens it.
        server = Gunicorn(url, args.workers, args.threads, instance)
        try:
            server.wait_healthy()
            if not cookies:
                cookies = [asyncio.run(log_in(server.base)) for _ in range(args.clients)]
            pdf_s, status = asyncio.run(unloaded(server.base, f"{report}/report.pdf",
                                                 cookies[0], times=3))
        finally:
            server.stop(url)
        print(f"  {report}/report.pdf: median of 3 single requests {pdf_s:.2f} s "
              f"(status {status})", flush=True)

    print()
    print(f"{'page':<32} {'path':<26} {'idle':>7} {'p50':>8} {'p95':>8} {'p99':>8} "
          f"{'req/s':>6} {'n':>6} {'err':>4} {'unfin':>5}  target")
    line = {}
    for spec in specs:
        if spec.key not in results:
            line[spec.key] = "na"
            continue
        _, idle, result = results[spec.key]
        p50, p95, p99 = (result.percentile(s) for s in (0.5, 0.95, 0.99))
        verdict = "ok" if not p95[1] and p95[0] * 1000 <= spec.target_ms else "MISSED"
        print(f"{spec.label:<32} {spec.path or '':<26} {fmt_ms(idle):>7} {fmt_ms(*p50):>8} "
              f"{fmt_ms(*p95):>8} {fmt_ms(*p99):>8} {result.rate:>6.1f} "
              f"{len(result.latencies):>6} {sum(result.errors.values()):>4} "
              f"{len(result.unfinished):>5}  p95 ≤ {spec.target_ms} ms: {verdict}")
        line[spec.key] = f"{p95[0] * 1000:.0f}" if not math.isnan(p95[0]) else "na"
    rss = max(peaks, default=math.nan)
    print(f"{'worker peak RSS (VmHWM)':<32} {'':<26} {rss:>7.0f} MB  ≤ {TARGET_RSS_MB} MB: "
          f"{'ok' if rss <= TARGET_RSS_MB else 'MISSED'}")
    print("ms; idle = median of 5 single requests; ≥ = a lower bound (requests still running at "
          f"the end); cpus {len(os.sched_getaffinity(0))}, shared with whatever else runs here")
    paper = "–" if math.isnan(pdf_s) else f"{pdf_s:.2f}"
    print(f"{'board paper (PDF), one request':<32} {'':<26} {paper:>7} s  ≤ {TARGET_PDF_S:.0f} s: "
          f"{'ok' if pdf_s <= TARGET_PDF_S else 'MISSED'}")
    print("B4 " + " ".join(f"{key}_p95_ms={line.get(key, 'na')}" for key in
                           ("log", "filtered", "party", "search", "deep", "dashboard", "report",
                            "quarter"))
          + f" pdf_s={'na' if math.isnan(pdf_s) else f'{pdf_s:.2f}'} worker_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()

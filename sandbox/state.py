"""Sandbox storage: accounts, posts, media and rate-limit windows in one SQLite file.

SQLite in WAL mode because the server, the CLI and test processes share the file, and because a
post must be committed (WAL, synchronous=NORMAL) before the server answers, or drops the answer.
One connection guarded by a lock serves all of the threaded server's requests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sqlite3
import string
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox import clock
from sandbox.faults import Faults, RateDecision
from sandbox.metrics import GROWING, grown

PLATFORMS = ("x", "facebook")
TWITTER_EPOCH_MS = 1288834974657
_ALNUM = string.ascii_letters + string.digits

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    key TEXT PRIMARY KEY,            -- X user id or Facebook Page id
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    username TEXT NOT NULL,          -- X handle; the Page id for Facebook
    credentials TEXT NOT NULL,       -- the JSON handed out by add_account
    faults TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    UNIQUE (platform, name)
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- oauth1 | bearer | page
    account_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_key TEXT NOT NULL,
    platform TEXT NOT NULL,
    kind TEXT NOT NULL,              -- tweet | post | photo | comment
    text TEXT NOT NULL DEFAULT '',
    link TEXT,
    parent_id TEXT,                  -- replied-to tweet or commented post
    conversation_id TEXT,
    media_ids TEXT NOT NULL DEFAULT '[]',
    photo_id TEXT UNIQUE,
    published INTEGER NOT NULL DEFAULT 1,
    scheduled_at REAL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS posts_by_account ON posts (account_key, seq);
CREATE INDEX IF NOT EXISTS posts_by_parent ON posts (parent_id);
CREATE INDEX IF NOT EXISTS posts_by_text ON posts (account_key, text);
CREATE TABLE IF NOT EXISTS media (
    id TEXT PRIMARY KEY,
    account_key TEXT NOT NULL,
    mime TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    alt_text TEXT NOT NULL DEFAULT '',  -- X media metadata / Graph alt_text_custom
    data BLOB                           -- the uploaded bytes, served at /sandbox/media/<id>
);
CREATE TABLE IF NOT EXISTS windows (
    account_key TEXT NOT NULL,
    bucket TEXT NOT NULL,
    started_at REAL NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (account_key, bucket)
);
CREATE TABLE IF NOT EXISTS post_metrics (
    post_id TEXT PRIMARY KEY,
    age_offset REAL NOT NULL DEFAULT 0,  -- seconds added to the post's real age
    overrides TEXT NOT NULL DEFAULT '{}' -- fixed values set through the control API
);
"""


class StateError(Exception):
    """The state file cannot be opened or used; the message is fit for a person."""


class DuplicatePost(Exception):
    """The platform would refuse this post as a duplicate."""


class UnknownAccount(KeyError):
    """No account has that key."""


@dataclass(frozen=True)
class Account:
    key: str
    platform: str
    name: str
    username: str
    credentials: dict[str, str]
    faults: Faults


@dataclass(frozen=True)
class Post:
    seq: int
    id: str
    account_key: str
    platform: str
    kind: str
    text: str
    link: str | None
    parent_id: str | None
    conversation_id: str | None
    media_ids: list[str]
    photo_id: str | None
    published: bool
    scheduled_at: float | None
    created_at: float
    deleted_at: float | None

    def visible(self, now: float | None = None) -> bool:
        """Live and public: not deleted, and published or past its scheduled time."""
        if self.deleted_at is not None:
            return False
        now = clock.now() if now is None else now
        return self.published or (self.scheduled_at is not None and self.scheduled_at <= now)

    def to_dict(self) -> dict[str, Any]:
        """The control API's view of a stored post."""
        return {
            "id": self.id, "account": self.account_key, "platform": self.platform,
            "kind": self.kind, "text": self.text, "link": self.link, "parent_id": self.parent_id,
            "media_ids": self.media_ids, "photo_id": self.photo_id,
            "published": self.visible(), "scheduled_publish_time":
                int(self.scheduled_at) if self.scheduled_at is not None else None,
            "created_at": iso(self.created_at), "deleted": self.deleted_at is not None,
        }


@dataclass(frozen=True)
class Media:
    """An uploaded image (X media, or a Facebook photo: then its id is the photo id)."""

    id: str
    account_key: str
    mime: str
    width: int
    height: int
    size: int
    alt_text: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account_key, "mime": self.mime,
                "width": self.width, "height": self.height, "size": self.size,
                "alt_text": self.alt_text, "created_at": iso(self.created_at)}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Snowflake:
    """Time-ordered 64-bit ids like X's: milliseconds since X's epoch, a worker, a sequence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._worker = secrets.randbelow(1024)

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - TWITTER_EPOCH_MS
            self._last = max((ms << 22) | (self._worker << 12), self._last + 1)
            return self._last


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


class SandboxState:
    """All sandbox data behind small, intention-named methods; safe across threads."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="megafon-sandbox-")
            path = os.path.join(self._tmpdir.name, "state.sqlite3")
        self.path = os.fspath(path)
        self._lock = threading.RLock()  # the one writer connection
        self._readers = threading.local()  # each server thread reads on its own connection
        self._reader_connections: list[sqlite3.Connection] = []
        self._ids = _Snowflake()
        self._in_flight: Counter[str] = Counter()  # calls inside their latency, per account
        try:
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                       check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives the sandbox process dying at any point (what the
            # dropped-answer and kill -9 scenarios need); only a power cut could lose a post.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.Error as exc:
            raise StateError(f"cannot use sandbox state file {self.path!r}: {exc}") from exc

    def _add_missing_columns(self) -> None:
        """A state file from an older sandbox gets the columns added since."""
        have = {row["name"] for row in self._db.execute("PRAGMA table_info(media)")}
        for column, ddl in (("alt_text", "TEXT NOT NULL DEFAULT ''"), ("data", "BLOB")):
            if column not in have:
                self._db.execute(f"ALTER TABLE media ADD COLUMN {column} {ddl}")

    @contextmanager
    def in_flight(self, account_key: str) -> Iterator[None]:
        """Count a call as arrived and not yet answered while the block runs."""
        with self._lock:
            self._in_flight[account_key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[account_key] -= 1

    def calls_in_flight(self, account_key: str) -> int:
        with self._lock:
            return self._in_flight[account_key]

    def close(self) -> None:
        with self._lock:
            for reader in self._reader_connections:
                reader.close()
            self._reader_connections.clear()
            self._db.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection: WAL lets readers run beside the writer, so reads
        never queue behind the writer's lock."""
        reader = getattr(self._readers, "db", None)
        if reader is None:
            reader = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                     check_same_thread=False)
            reader.row_factory = sqlite3.Row
            with self._lock:
                self._reader_connections.append(reader)
            self._readers.db = reader
        return reader

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._reader().execute(sql, args).fetchall()

    def new_id(self) -> str:
        """A fresh snowflake id, as X and the Graph hand out (as strings)."""
        return str(self._ids.next())

    # -- accounts ---------------------------------------------------------------------------

    def add_account(self, platform: str, name: str) -> dict[str, str]:
        """Create an account (or return the existing one of that name) and its credentials."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; use one of: {', '.join(PLATFORMS)}")
        name = name.strip()
        if not name:
            raise ValueError("an account needs a non-empty name")
        with self._tx() as db:
            row = db.execute("SELECT credentials FROM accounts WHERE platform=? AND name=?",
                             (platform, name)).fetchone()
            if row:
                return json.loads(row["credentials"])
            if platform == "x":
                key, username = self.new_id(), self._free_username(db, name)
                creds = {"platform": "x", "name": name, "username": username, "user_id": key,
                         "consumer_key": _random(25), "consumer_secret": _random(50),
                         "access_token": f"{key}-{_random(40)}",
                         "access_token_secret": _random(45),
                         "bearer_token": "A" * 21 + _random(90)}
                tokens = [(creds["access_token"], "oauth1"), (creds["bearer_token"], "bearer")]
            else:
                key = str(61550000000000 + secrets.randbelow(10**11) * 10 + secrets.randbelow(10))
                username = key
                creds = {"platform": "facebook", "name": name, "page_id": key,
                         "page_access_token": "EAAG" + _random(160)}
                tokens = [(creds["page_access_token"], "page")]
            db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?,?)",
                       (key, platform, name, username, json.dumps(creds), "{}", clock.now()))
            db.executemany("INSERT INTO tokens VALUES (?,?,?)",
                           [(t, kind, key) for t, kind in tokens])
            return creds

    @staticmethod
    def _free_username(db: sqlite3.Connection, name: str) -> str:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        base = re.sub(r"[^A-Za-z0-9_]", "", ascii_name)[:15] or "sandbox_user"
        candidate, n = base, 1
        while db.execute("SELECT 1 FROM accounts WHERE platform='x' AND lower(username)=lower(?)",
                         (candidate,)).fetchone():
            n += 1
            candidate = base[: 15 - len(str(n))] + str(n)
        return candidate

    @staticmethod
    def _account(row: sqlite3.Row) -> Account:
        return Account(key=row["key"], platform=row["platform"], name=row["name"],
                       username=row["username"], credentials=json.loads(row["credentials"]),
                       faults=Faults(**json.loads(row["faults"])))

    def accounts(self) -> list[Account]:
        return [self._account(r) for r in self._rows("SELECT * FROM accounts ORDER BY created_at")]

    def account(self, key: str) -> Account | None:
        """By key (X user id / Page id), or by name or X username when that is unambiguous."""
        rows = self._rows("SELECT * FROM accounts WHERE key=?", (key,))
        if not rows:
            rows = self._rows("SELECT * FROM accounts WHERE name=? OR lower(username)=lower(?)",
                              (key, key))
        return self._account(rows[0]) if len(rows) == 1 else None

    def account_by_token(self, token: str) -> tuple[Account, str] | None:
        """The account a token belongs to and the token's kind (oauth1, bearer or page)."""
        rows = self._rows("SELECT a.*, t.kind AS token_kind FROM tokens t "
                          "JOIN accounts a ON a.key = t.account_key WHERE t.token=?", (token,))
        return (self._account(rows[0]), rows[0]["token_kind"]) if rows else None

    def set_faults(self, key: str, faults: Faults) -> Faults:
        """Replace an account's fault profile."""
        with self._tx() as db:
            cur = db.execute("UPDATE accounts SET faults=? WHERE key=?",
                             (json.dumps(faults.to_dict()), key))
            if cur.rowcount == 0:
                raise UnknownAccount(key)
        return faults

    def reset(self, keep_accounts: bool = False) -> None:
        """Forget posts, media and counters (and accounts, unless kept); faults are cleared."""
        with self._tx() as db:
            for table in ("posts", "media", "windows", "post_metrics"):
                db.execute(f"DELETE FROM {table}")
            if keep_accounts:
                db.execute("UPDATE accounts SET faults='{}'")
            else:
                db.execute("DELETE FROM accounts")
                db.execute("DELETE FROM tokens")

    # -- posts ------------------------------------------------------------------------------

    @staticmethod
    def _post(row: sqlite3.Row) -> Post:
        return Post(seq=row["seq"], id=row["id"], account_key=row["account_key"],
                    platform=row["platform"], kind=row["kind"], text=row["text"],
                    link=row["link"], parent_id=row["parent_id"],
                    conversation_id=row["conversation_id"],
                    media_ids=json.loads(row["media_ids"]), photo_id=row["photo_id"],
                    published=bool(row["published"]), scheduled_at=row["scheduled_at"],
                    created_at=row["created_at"], deleted_at=row["deleted_at"])

    def add_post(self, account: Account, kind: str, text: str, *, post_id: str | None = None,
                 link: str | None = None, parent: Post | None = None,
                 media_ids: Sequence[str] = (), photo_id: str | None = None,
                 published: bool = True, scheduled_at: float | None = None,
                 dedupe: str | None = None) -> Post:
        """Store a post durably. `dedupe`: "any" refuses the text of any live post of the
        account (X), "latest" only that of its latest one (Facebook); raises DuplicatePost."""
        post_id = post_id or self.new_id()
        conversation = (parent.conversation_id or parent.id) if parent else post_id
        values = (post_id, account.key, account.platform, kind, text, link,
                  parent.id if parent else None, conversation, json.dumps(list(media_ids)),
                  photo_id, int(published), scheduled_at, clock.now())
        # One statement, so the duplicate check and the insert are atomic without a transaction.
        live = "FROM posts WHERE account_key=? AND kind=? AND deleted_at IS NULL"
        same = {"any": f"SELECT 1 {live} AND text=?",
                "latest": f"SELECT 1 FROM (SELECT text {live} ORDER BY seq DESC LIMIT 1) "
                          "WHERE text=?"}.get(dedupe or "") if text else None
        sql = ("INSERT INTO posts (id, account_key, platform, kind, text, link, parent_id, "
               "conversation_id, media_ids, photo_id, published, scheduled_at, created_at) "
               "SELECT ?,?,?,?,?,?,?,?,?,?,?,?,?"
               + (f" WHERE NOT EXISTS ({same})" if same else "") + " RETURNING *")
        with self._lock:
            row = self._db.execute(sql, values + ((account.key, kind, text) if same else ())
                                   ).fetchone()
        if row is None:
            raise DuplicatePost(text)
        return self._post(row)

    def post(self, post_id: str) -> Post | None:
        """A post by id (or by Facebook photo id), deleted ones included."""
        rows = self._rows("SELECT * FROM posts WHERE id=? OR photo_id=?", (post_id, post_id))
        return self._post(rows[0]) if rows else None

    def delete_post(self, post_id: str) -> bool:
        with self._tx() as db:
            cur = db.execute("UPDATE posts SET deleted_at=? WHERE id=? AND deleted_at IS NULL",
                             (clock.now(), post_id))
            return cur.rowcount == 1

    def posts(self, account_key: str, include_deleted: bool = False) -> list[Post]:
        """Everything an account has stored, oldest first (what tests count)."""
        sql = "SELECT * FROM posts WHERE account_key=?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        return [self._post(r) for r in self._rows(sql + " ORDER BY seq", (account_key,))]

    def timeline(self, account_key: str | None, kinds: Sequence[str], *, limit: int,
                 before_seq: int | None = None, parent_id: str | None = None,
                 conversation_id: str | None = None,
                 newest_first: bool = True) -> tuple[list[Post], bool]:
        """One page of visible posts and whether more follow. `account_key` None = everyone."""
        sql = f"SELECT * FROM posts WHERE kind IN ({','.join('?' * len(kinds))})"
        args: list[Any] = list(kinds)
        if account_key is not None:
            sql, args = sql + " AND account_key=?", [*args, account_key]
        for column, value in (("parent_id", parent_id), ("conversation_id", conversation_id)):
            if value is not None:
                sql, args = sql + f" AND {column}=?", [*args, value]
        if before_seq is not None:
            sql += " AND seq < ?" if newest_first else " AND seq > ?"
            args.append(before_seq)
        sql += " AND deleted_at IS NULL ORDER BY seq " + ("DESC" if newest_first else "ASC")
        now = clock.now()
        found: list[Post] = []
        # Closed when done: a half-read cursor would keep this thread's snapshot open.
        with contextlib.closing(self._reader().execute(sql, args)) as rows:
            for row in rows:
                post = self._post(row)
                if post.visible(now):
                    found.append(post)
                    if len(found) > limit:
                        break
        return found[:limit], len(found) > limit

    def search(self, words: Sequence[str], *, limit: int, before_seq: int | None = None,
               since_id: int | None = None, until_id: int | None = None) -> tuple[list[Post], bool]:
        """Live tweets of every account holding every word (case-insensitive), newest first."""
        needles = [w.casefold() for w in words]
        sql = "SELECT * FROM posts WHERE kind='tweet' AND deleted_at IS NULL"
        args: list[Any] = []
        if before_seq is not None:
            sql, args = sql + " AND seq < ?", [before_seq]
        found: list[Post] = []
        with contextlib.closing(self._reader().execute(sql + " ORDER BY seq DESC", args)) as rows:
            for row in rows:
                text, tweet_id = row["text"].casefold(), int(row["id"])
                if since_id is not None and tweet_id <= since_id:
                    continue
                if until_id is not None and tweet_id >= until_id:
                    continue
                if all(n in text for n in needles):
                    found.append(self._post(row))
                    if len(found) > limit:
                        break
        return found[:limit], len(found) > limit

    def count_children(self, parent_id: str) -> int:
        rows = self._rows("SELECT count(*) AS n FROM posts WHERE parent_id=? "
                          "AND deleted_at IS NULL", (parent_id,))
        return int(rows[0]["n"])

    # -- media and rate windows -------------------------------------------------------------

    def add_media(self, account_key: str, mime: str, width: int, height: int, size: int,
                  data: bytes | None = None, *, media_id: str | None = None,
                  alt_text: str = "") -> str:
        media_id = media_id or self.new_id()
        with self._tx() as db:
            db.execute("INSERT INTO media (id, account_key, mime, width, height, size, "
                       "created_at, alt_text, data) VALUES (?,?,?,?,?,?,?,?,?)",
                       (media_id, account_key, mime, width, height, size, clock.now(),
                        alt_text, data))
        return media_id

    def set_alt_text(self, account_key: str, media_id: str, alt_text: str) -> bool:
        """Describe an account's own media; False when it has no such media."""
        with self._tx() as db:
            cur = db.execute("UPDATE media SET alt_text=? WHERE id=? AND account_key=?",
                             (alt_text, media_id, account_key))
            return cur.rowcount == 1

    def media(self, media_ids: Sequence[str]) -> list[Media]:
        """Media by id, in the order asked for (unknown ids left out), without the bytes."""
        if not media_ids:
            return []
        rows = self._rows("SELECT id, account_key, mime, width, height, size, alt_text, "
                          f"created_at FROM media WHERE id IN ({','.join('?' * len(media_ids))})",
                          list(media_ids))
        found = {r["id"]: Media(**dict(r)) for r in rows}
        return [found[i] for i in media_ids if i in found]

    def media_bytes(self, media_id: str) -> tuple[str, bytes] | None:
        """(MIME type, bytes) of stored media; None when unknown or stored without its bytes."""
        rows = self._rows("SELECT mime, data FROM media WHERE id=?", (media_id,))
        if not rows or rows[0]["data"] is None:
            return None
        return rows[0]["mime"], bytes(rows[0]["data"])

    def media_owned(self, account_key: str, media_ids: Sequence[str]) -> bool:
        """True when every id is media this account uploaded."""
        if not media_ids:
            return True
        rows = self._rows(f"SELECT count(*) AS n FROM media WHERE account_key=? AND id IN "
                          f"({','.join('?' * len(media_ids))})", [account_key, *media_ids])
        return int(rows[0]["n"]) == len(set(media_ids))

    def count_call(self, account_key: str, bucket: str, limit: int,
                   window_s: int) -> RateDecision:
        """Count one call in the account's current window for `bucket` (it opens at first use)."""
        now = clock.now()
        with self._lock:  # one statement: atomic on its own
            started, used = self._db.execute(
                "INSERT INTO windows VALUES (?,?,?,1) ON CONFLICT (account_key, bucket) DO UPDATE "
                "SET used = CASE WHEN excluded.started_at >= started_at + ? THEN 1 "
                "ELSE used + 1 END, started_at = CASE WHEN excluded.started_at >= started_at + ? "
                "THEN excluded.started_at ELSE started_at END RETURNING started_at, used",
                (account_key, bucket, now, window_s, window_s)).fetchone()
        return RateDecision(limit=limit, used=used, reset=int(started + window_s))

    # -- engagement -------------------------------------------------------------------------

    def metrics(self, post: Post, now: float | None = None) -> dict[str, Any]:
        """The post's engagement now: grown with its (virtual) age, fixed values where set."""
        now = clock.now() if now is None else now
        rows = self._rows("SELECT age_offset, overrides FROM post_metrics WHERE post_id=?",
                          (post.id,))
        offset, overrides = (rows[0]["age_offset"], json.loads(rows[0]["overrides"])) \
            if rows else (0.0, {})
        age = self._real_age(post, now) + offset
        values: dict[str, Any] = {"age_s": round(age, 3), **grown(post.id, age)}
        values.update({k: v for k, v in overrides.items() if k in GROWING})
        values["replies"] = self.count_children(post.id)
        return values

    @staticmethod
    def _real_age(post: Post, now: float) -> float:
        """Seconds since the post went public (a scheduled Facebook post: since its time)."""
        born = post.scheduled_at if post.scheduled_at is not None and not post.published \
            else post.created_at
        return max(0.0, now - born)

    def set_metrics(self, post: Post, *, advance_s: float | None = None,
                    age_s: float | None = None,
                    overrides: dict[str, int | None] | None = None) -> dict[str, Any]:
        """Age a post virtually (by `advance_s`, or to `age_s`) and/or fix some numbers."""
        with self._tx() as db:
            row = db.execute("SELECT age_offset, overrides FROM post_metrics WHERE post_id=?",
                             (post.id,)).fetchone()
            offset = row["age_offset"] if row else 0.0
            fixed = json.loads(row["overrides"]) if row else {}
            if age_s is not None:
                offset = age_s - self._real_age(post, clock.now())
            if advance_s is not None:
                offset += advance_s
            for name, value in (overrides or {}).items():
                if value is None:
                    fixed.pop(name, None)
                else:
                    fixed[name] = value
            db.execute("INSERT OR REPLACE INTO post_metrics VALUES (?,?,?)",
                       (post.id, offset, json.dumps(fixed)))
        return self.metrics(post)

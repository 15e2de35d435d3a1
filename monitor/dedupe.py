"""One story, however many copies: URL normalisation and near-duplicate text detection.

A copy of a story already stored is recognised, in this order, by

1. its normalised URL (`normalize_url`): the same article reached with tracking parameters, an
   AMP version, `www.` or not, http or https. Compared with every mention's URL and every
   sighting's URL, of any age: a story that comes back after weeks is still the same story.
2. its text (`signature`): a MinHash (datasketch) of the word 2-shingles of the normalised text.
   A mention first seen within `window_days` whose estimated Jaccard similarity is at least
   SAME_STORY_JACCARD (0.8), or of which the shorter text is at least SAME_STORY_CONTAINMENT
   (0.9) contained in the longer (a copy that cut or added a paragraph; only for a shorter text
   of MIN_CONTAINMENT_SHINGLES or more), is the same story.
   Texts of fewer than MIN_SHINGLES shingles (a short post, a bare headline) are too small to
   tell a copy from a coincidence and are matched by URL only.

The title takes no part in the text comparison when there is text enough (MIN_TEXT_WORDS):
headlines are what changes most after publication and between sister papers.

Why these numbers: on the Värmland test stories (tests/monitor/stories.py) a copy edited for a
sister paper (a word changed, a clause added) scores about 0.85–0.9 on word 2-shingles, while a
different article on the same issue (same names, places and parties) scores below 0.05; single
words would make unrelated texts on one issue look alike, 3-shingles punish every small edit
three times (the same copy scores 0.79). 128 permutations estimate the similarity within about
±0.035 near 0.8. The LSH proposes candidates from 0.5 up, so the containment rule sees them.

`signature` returns a `Signature`: the MinHash (`.minhash`, a datasketch LeanMinHash) with the
number of shingles it was made from, which the size rules above need.

Two workers that see one new story at the same moment (each in a transaction the other cannot
see yet) would each find nothing and both store it. So a transaction takes `lock_stories` before
it writes a mention: one at a time, held until it commits, and the first lookup after taking it
reads what other workers committed up to then (`find_same_story(..., fresh=True)`).
"""

from __future__ import annotations

import base64
import re
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from sqlalchemy import or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.clock import ensure_utc, utcnow
from core.db import on_postgres
from monitor.models import Mention, Sighting

NUM_PERM = 128
SEED = 1
SCHEME = "affine32"  # datasketch ≥ 2.0; 32-bit hash values, stored as 4 bytes each
SHINGLE_WORDS = 2
MIN_SHINGLES = 8
MIN_CONTAINMENT_SHINGLES = 20
MIN_TEXT_WORDS = 12
SAME_STORY_JACCARD = 0.8
SAME_STORY_CONTAINMENT = 0.9
CANDIDATE_THRESHOLD = 0.5  # the LSH finds candidates this similar; each is then checked
REFRESH_MARGIN = timedelta(minutes=10)  # longer than any ingest transaction
REFRESH_EVERY = timedelta(seconds=2)
STORY_LOCK = 0x6D65676166_6F6E01  # the PostgreSQL advisory lock key ("megafon\x01")

# --- URLs --------------------------------------------------------------------------------------

_TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "ref", "ref_src", "ref_url", "referrer", "referer",
    "share", "shared", "sharing", "share_id", "s", "smid", "cmpid", "cmp", "at_medium",
    "at_campaign", "at_source", "ncid", "ocid", "spm", "soc_src", "soc_trk", "amp",
    "outputtype", "output", "__twitter_impression", "ito", "xtor",
})
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "itm_")
_AMP_VALUES = frozenset({"amp", "1", "true", ""})
_HOST_PREFIXES = ("www.", "m.", "amp.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _is_tracking(key: str, value: str) -> bool:
    name = key.lower()
    if name in {"amp", "outputtype", "output"}:  # ?outputType=amp, ?amp, ?amp=1
        return value.lower() in _AMP_VALUES
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _normal_path(path: str) -> str:
    segments = [s for s in unquote(path).split("/") if s and s.lower() != "amp"]
    if segments:
        last = segments[-1]
        lowered = last.lower()
        if lowered.endswith(".amp.html"):
            segments[-1] = last[: -len(".amp.html")] + ".html"
        elif lowered.endswith(".amp"):
            segments[-1] = last[: -len(".amp")]
        segments = [s for s in segments if s]
    return quote("/" + "/".join(segments), safe=_PATH_SAFE) if segments else ""


def normalize_url(url: str | None) -> str:
    """The URL reduced to what identifies the article; "" for no URL.

    Lower-case scheme and host, https for http, no user info, default port, `www.`/`m.`/`amp.`
    host prefix, fragment, trailing slash, AMP path segment (/amp/, .amp, .amp.html) or AMP
    parameter, and no tracking or sharing parameters (utm_*, fbclid, gclid, mc_cid, ref, share,
    …). The parameters left are sorted. Something that is not an http(s) URL is returned
    stripped and otherwise unchanged.
    """
    raw = (url or "").strip()
    if not raw:
        return ""
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        return raw
    host = parts.hostname.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _is_tracking(k, v))
    return urlunsplit(("https", host, _normal_path(parts.path), urlencode(query), ""))


# --- text signatures ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The text's words, case- and compatibility-folded (å, ä, ö stay what they are)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())


def shingles(text: str) -> set[str]:
    found = words(text)
    if len(found) < SHINGLE_WORDS:
        return {" ".join(found)} if found else set()
    return {" ".join(found[i:i + SHINGLE_WORDS]) for i in range(len(found) - SHINGLE_WORDS + 1)}


def comparable_text(title: str, text: str) -> str:
    """What is compared: the text alone when there is enough of it, else title and text."""
    if len(words(text)) >= MIN_TEXT_WORDS:
        return text
    return f"{title}\n{text}"


@dataclass(frozen=True)
class Signature:
    """A MinHash of a text's shingles and how many shingles there were."""

    minhash: LeanMinHash
    size: int

    def jaccard(self, other: Signature) -> float:
        if not self.size or not other.size:
            return 0.0
        return float(self.minhash.jaccard(other.minhash))

    def same_story(self, other: Signature) -> bool:
        """Near-duplicates: similar as a whole, or the shorter one contained in the longer."""
        if min(self.size, other.size) < MIN_SHINGLES:
            return False
        similarity = self.jaccard(other)
        if similarity >= SAME_STORY_JACCARD:
            return True
        if min(self.size, other.size) < MIN_CONTAINMENT_SHINGLES:
            return False
        # |A ∩ B| = J·|A ∪ B| and |A ∪ B| = (|A| + |B|) / (1 + J), so the share of the
        # smaller set found in the larger one follows from J and the sizes.
        containment = similarity * (self.size + other.size) / ((1 + similarity)
                                                              * min(self.size, other.size))
        return containment >= SAME_STORY_CONTAINMENT

    def dumps(self) -> str:
        """Compact text for Mention.signature: `mh1:<scheme>:<seed>:<size>:<base64 values>`."""
        values = np.asarray(self.minhash.hashvalues, dtype="<u4").tobytes()
        encoded = base64.b64encode(values).decode("ascii")
        return f"mh1:{self.minhash.scheme}:{self.minhash.seed}:{self.size}:{encoded}"

    @classmethod
    def loads(cls, stored: str | None) -> Signature | None:
        """The signature stored by dumps(); None for nothing or something unreadable."""
        if not stored:
            return None
        try:
            version, scheme, seed, size, encoded = stored.split(":", 4)
            if version != "mh1":
                return None
            values = np.frombuffer(base64.b64decode(encoded), dtype="<u4").astype(np.uint32)
            return cls(LeanMinHash(seed=int(seed), hashvalues=values, scheme=scheme), int(size))
        except (ValueError, TypeError):
            return None


def signature(text: str) -> Signature:
    """The MinHash signature of `text` (see comparable_text for what to pass)."""
    found = shingles(text)
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in sorted(found)])
    return Signature(LeanMinHash(minhash), len(found))


def signature_of(title: str, text: str) -> Signature:
    return signature(comparable_text(title, text))


# --- the index of recent mentions --------------------------------------------------------------

class StoryIndex:
    """A MinHashLSH over the signatures of recent mentions, kept per process and database.

    The database stays the truth: the index only proposes candidates, each is read back from
    the database and compared with its stored signature. It is filled on first use with the
    mentions of the window and then brought up to date on every lookup by reading the mentions
    updated since the newest one it holds (minus REFRESH_MARGIN, so a transaction that
    committed late is not missed), which is a handful of rows; mentions that leave the window
    are dropped. A mention created in this process is added at once, before it is committed,
    so two copies in one batch are recognised; if that transaction rolls back, the database
    check discards the phantom. At a few thousand mentions a week the index holds ~10k
    signatures (~5 MB).
    """

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.refreshed_at: datetime | None = None
        self.lsh = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=NUM_PERM)
        self.entries: dict[int, tuple[str, datetime]] = {}
        self.watermark: datetime | None = None
        self.max_id: int | None = None  # the newest mention read from the database
        self.lock = threading.Lock()

    def _put(self, mention_id: int, stored: str, first_seen: datetime) -> None:
        known = self.entries.get(mention_id)
        if known is not None and known[0] == stored:
            return
        if known is not None:
            self.lsh.remove(mention_id)
            del self.entries[mention_id]
        parsed = Signature.loads(stored)
        if parsed is None or parsed.size < MIN_SHINGLES:
            return
        self.lsh.insert(mention_id, parsed.minhash, check_duplication=False)
        self.entries[mention_id] = (stored, first_seen)

    def add(self, mention_id: int, sig: Signature, first_seen: datetime) -> None:
        with self.lock:
            self._put(mention_id, sig.dumps(), ensure_utc(first_seen))

    def refresh(self, session: Session, now: datetime, force: bool = False) -> None:
        # Other processes' mentions are picked up at most every REFRESH_EVERY: re-reading the
        # margin on every lookup made a burst of thousands of items quadratic. This process's
        # own mentions are added at once (remember). A writer holding lock_stories asks with
        # `force` for the mentions stored since the newest id read: mentions are only created
        # under that lock, so their ids grow in the order they were committed.
        if self.refreshed_at is not None and \
                timedelta(0) <= now - self.refreshed_at < REFRESH_EVERY:
            if force and self.max_id is not None:
                self._load_new(session, now)
            return
        self.refreshed_at = now
        margin = () if self.watermark is None else \
            (Mention.updated_at >= self.watermark - REFRESH_MARGIN,)
        self._load(session, now, *margin)

    def _load_new(self, session: Session, now: datetime) -> None:
        """The mentions stored since the newest id read; those this process stored itself are
        in the index already, so only the others' signatures are read."""
        ids = list(session.scalars(select(Mention.id).where(Mention.id > self.max_id)))
        with self.lock:
            unknown = [i for i in ids if i not in self.entries]
        if unknown:
            self._load(session, now, Mention.id.in_(unknown))
        if ids:
            with self.lock:
                self.max_id = max(self.max_id or 0, *ids)

    def _load(self, session: Session, now: datetime, *where: Any) -> None:
        start = now - self.window
        rows = session.execute(
            select(Mention.id, Mention.signature, Mention.first_seen_at, Mention.updated_at)
            .where(Mention.first_seen_at >= start, Mention.signature.is_not(None), *where)
        ).all()
        with self.lock:
            for mention_id, stored, first_seen, updated in rows:
                self._put(mention_id, stored, ensure_utc(first_seen))
                updated = ensure_utc(updated)
                if self.watermark is None or updated > self.watermark:
                    self.watermark = updated
                if self.max_id is None or mention_id > self.max_id:
                    self.max_id = mention_id
            if self.max_id is None:
                self.max_id = 0  # read, and there were none
            for mention_id in [k for k, (_, seen) in self.entries.items() if seen < start]:
                self.lsh.remove(mention_id)
                del self.entries[mention_id]

    def candidates(self, sig: Signature) -> list[int]:
        with self.lock:
            return sorted(self.lsh.query(sig.minhash))


_indexes: weakref.WeakKeyDictionary[Engine, StoryIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def story_index(session: Session, window: timedelta) -> StoryIndex:
    """This process's index for the session's database (rebuilt for a longer window)."""
    bind: Any = session.get_bind()
    engine: Engine = getattr(bind, "engine", bind)
    with _indexes_lock:
        index = _indexes.get(engine)
        if index is None or index.window < window:
            index = _indexes[engine] = StoryIndex(window)
        return index


def forget_indexes() -> None:
    """Drop every cached index (tests; a restore of the database under a running process)."""
    with _indexes_lock:
        _indexes.clear()


# --- finding the story -------------------------------------------------------------------------

def lock_stories(session: Session) -> None:
    """Take the right to write mentions, until this transaction ends (see the module docstring).
    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database's write lock, taken by
    a write that changes nothing (its single writer does the rest)."""
    if on_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK})
    else:
        session.execute(text("UPDATE mentions SET id = id WHERE 0"))


def find_by_url(session: Session, url: str | None) -> Mention | None:
    """The oldest mention that has this URL (normalised) or a sighting with it."""
    normalized = normalize_url(url)
    if not normalized:
        return None
    sighted = select(Sighting.mention_id).where(Sighting.normalized_url == normalized)
    return session.scalars(
        select(Mention).where(or_(Mention.normalized_url == normalized, Mention.id.in_(sighted)))
        .order_by(Mention.id).limit(1)).first()


def find_same_story(session: Session, item: Any, sig: Signature | None = None, *,
                    window_days: int = 7, now: datetime | None = None,
                    fresh: bool = False) -> Mention | None:
    """The mention `item` (a monitor.items.Item) is a copy of, or None for a new story.

    Same normalised URL first; else the most similar mention first seen within `window_days`
    whose signature makes it the same story (see the module docstring). `fresh` reads other
    workers' newest mentions now rather than within REFRESH_EVERY.
    """
    found = find_by_url(session, item.url)
    if found is not None:
        return found
    sig = sig or signature_of(item.title, item.text)
    if sig.size < MIN_SHINGLES:
        return None
    now = now or utcnow()
    window = timedelta(days=window_days)
    index = story_index(session, window)
    index.refresh(session, now, force=fresh)
    best: tuple[float, int] | None = None
    for mention_id in index.candidates(sig):
        row = session.execute(select(Mention.signature, Mention.first_seen_at)
                              .where(Mention.id == mention_id)).first()
        if row is None or ensure_utc(row.first_seen_at) < now - window:
            continue
        stored = Signature.loads(row.signature)
        if stored is None or not sig.same_story(stored):
            continue
        score = sig.jaccard(stored)
        if best is None or score > best[0]:
            best = (score, mention_id)
    return session.get(Mention, best[1]) if best else None


def remember(session: Session, mention: Mention, sig: Signature, *,
             window_days: int = 7) -> None:
    """Put a mention just stored (and flushed) into this process's index."""
    story_index(session, timedelta(days=window_days)).add(mention.id, sig,
                                                          mention.first_seen_at)

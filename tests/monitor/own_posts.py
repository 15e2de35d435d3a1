"""Tweets and Page comments found by the real pollers in the sandbox: the pieces the tests of
our own accounts' posts share (tests/monitor/test_own_mentions.py, tests/web/test_mentions.py)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from core.db import Database
from monitor.models import Source, SourceKind
from monitor.polling import LiveIngest, poll_source
from publisher.services import Services
from sandbox.server import SandboxServer
from schedules.monitoring import build_context


def unique_word() -> str:
    """A word no other test's tweets hold (the sandbox lives as long as the test run)."""
    return f"akutfrågan{uuid.uuid4().hex[:8]}"


def tweet(sandbox: SandboxServer, creds: dict[str, str], text: str) -> str:
    """A tweet by the sandbox X account of these credentials; its id."""
    author = sandbox.state.account(creds["user_id"])
    assert author is not None
    return sandbox.state.add_post(author, "tweet", text).id


def x_search_source(db: Database, query: str) -> int:
    """An X search source that searches with a sandbox account of its own."""
    with db.session() as session:
        source = Source(name=f"X: {query}", kind=SourceKind.X_SEARCH, outlet="X",
                        config=json.dumps({"query": query,
                                           "account": f"x:Bevakning {uuid.uuid4().hex[:6]}"}))
        session.add(source)
        session.flush()
        return source.id


def fb_comments_source(db: Database, account_id: int) -> int:
    """The comments on a connected Page's posts, read with the Page's own token."""
    with db.session() as session:
        source = Source(name="Kommentarer", kind=SourceKind.FB_COMMENTS, outlet="Facebook",
                        config=json.dumps({"account": account_id}))
        session.add(source)
        session.flush()
        return source.id


def poll(services: Services, source_id: int) -> Any:
    """One poll of the source as a worker makes it: the real client against the sandbox,
    stored and alerted by LiveIngest (monitor.mentions.ingest_and_alert)."""
    outcome = poll_source(services.db, source_id, build_context(services),
                          LiveIngest(refresh=timedelta(0)))
    assert outcome.outcome == "ok", outcome.error
    return outcome

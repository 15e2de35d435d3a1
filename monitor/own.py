"""Our own accounts' posts: an X search finds the district's own tweets like anyone's, and a
Page's comments include the Page's own answers. They are ours, not media coverage.

A mention is ours when the author of the copy it was made from (monitor.items.Author) is one of
the accounts Megafon publishes to — any organisation's, connected now or disconnected since:
on the same platform, the platform's id of the account; when the source gave no id, the handle,
in any case (an id is permanent, a handle can pass to someone else). `Mention.own_account_id`
says which account. Ours are shown in the log, marked; they are never alerted
(monitor.alerts), not unread, and the board's report leaves them out of every figure
(`coverage`).

An account connected later makes the mentions it wrote before ours (`mark_own_mentions`, called
by whoever connects an account), found through the author columns stored at ingest.

The accounts are publisher's, and monitor does not import publisher: the three columns asked
here (which identities are ours) are read through a table clause of monitor's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, column, exists, or_, select, table, update
from sqlalchemy.orm import Session, aliased

from monitor.items import Author
from monitor.models import Mention

ACCOUNTS = table("accounts", column("id"), column("platform"), column("external_id"),
                 column("handle"))
HANDLE_LENGTH = 200
ID_LENGTH = 64


def handle_key(handle: str | None) -> str | None:
    """A handle as stored and compared: without "@", in lower case; None when empty."""
    key = (handle or "").strip().lstrip("@").strip().lower()
    return key[:HANDLE_LENGTH] or None


@dataclass
class OwnAccounts:
    """Our accounts' identities, read once per ingest batch (a few rows)."""

    by_id: dict[tuple[str, str], int] = field(default_factory=dict)
    by_handle: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> OwnAccounts:
        found = cls()
        for account_id, platform, external_id, handle in session.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.platform, ACCOUNTS.c.external_id,
                       ACCOUNTS.c.handle).order_by(ACCOUNTS.c.id)):
            if external_id:
                found.by_id.setdefault((str(platform), str(external_id)), account_id)
            key = handle_key(handle)
            if key:
                found.by_handle.setdefault((str(platform), key), account_id)
        return found

    def account_of(self, author: Author | None) -> int | None:
        """The id of our account that is this author, or None."""
        if author is None:
            return None
        if author.id:
            return self.by_id.get((author.platform, str(author.id)))
        key = handle_key(author.handle)
        return self.by_handle.get((author.platform, key)) if key else None


def author_columns(author: Author | None) -> dict[str, str | None]:
    """The author as Mention stores it."""
    if author is None:
        return {"author_platform": None, "author_id": None, "author_handle": None}
    return {"author_platform": author.platform[:16],
            "author_id": str(author.id)[:ID_LENGTH] if author.id else None,
            "author_handle": handle_key(author.handle)}


def mark_own_mentions(session: Session, account_id: int) -> int:
    """The mentions already stored that this account wrote become ours (call it when an
    account is connected; nothing happens twice). Returns how many were marked."""
    account = session.execute(select(ACCOUNTS.c.platform, ACCOUNTS.c.external_id,
                                     ACCOUNTS.c.handle)
                              .where(ACCOUNTS.c.id == account_id)).first()
    if account is None:
        return 0
    platform, external_id, handle = str(account[0]), account[1], handle_key(account[2])
    by_author = []
    if external_id:
        by_author.append(Mention.author_id == str(external_id))
    if handle:
        by_author.append(and_(Mention.author_id.is_(None), Mention.author_handle == handle))
    if not by_author:
        return 0
    done = session.execute(
        update(Mention)
        .where(Mention.own_account_id.is_(None), Mention.author_platform == platform,
               or_(*by_author))
        .values(own_account_id=account_id).execution_options(synchronize_session=False))
    return done.rowcount or 0


def coverage(mention_id: ColumnElement[int]) -> ColumnElement[bool]:
    """True for a mention that is coverage, not one of our own posts: NOT EXISTS over the few
    mentions that are ours (the partial index ix_mentions_own_sort_at holds their ids), so a
    count that reads an index of link rows or of mentions still reads that index only."""
    own = aliased(Mention, name="own_mention")
    return ~exists().where(own.id == mention_id, own.own_account_id.is_not(None))

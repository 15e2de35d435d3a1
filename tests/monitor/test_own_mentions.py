"""Our own accounts' posts are ours: an X search that finds the district's own tweet, or a
Page's own answer among its comments, stores it as a mention marked with our account; it raises
no alert, is not unread, and the log can hide it or show only ours. An account connected later
makes what it wrote before ours.

The real pollers (tweepy, facebook-sdk) against the sandbox, the real ingest and alerts; accounts
connected through publisher.accounts.connect_account (tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.auth import district
from core.users import Role, User
from monitor.alerts import DIGEST, MENTION, send_digests, unread_mentions
from monitor.items import Author, Item
from monitor.mention_search import OWN_HIDDEN, OWN_ONLY, MentionFilter, search
from monitor.models import AlertSubscription, Mention, Priority, SourceKind
from monitor.own import mark_own_mentions
from publisher.accounts import connect_account
from publisher.models import Platform
from tests.conftest import connect_sandbox_account
from tests.monitor.own_posts import (
    fb_comments_source,
    poll,
    tweet,
    unique_word,
    x_search_source,
)
from tests.monitor.stories import make_watchlist, run, story
from tests.monitor.test_alerts import notices


def by_title(db, word: str) -> dict[str, Mention]:
    with db.session() as session:
        found = session.scalars(select(Mention).where(Mention.text.contains(word)))
        return {m.title.split(":")[0]: m for m in found}


def test_our_tweet_found_by_x_search_is_ours_and_raises_no_alert(services, db, make_user,
                                                                 sandbox):
    word = unique_word()
    watchlist = make_watchlist(db, word, Priority.HIGH, name=f"Akuten {word}")
    reader = make_user(Role.COMMS)
    with db.session() as session:
        session.add(AlertSubscription(user_id=reader.id, watchlist_id=watchlist.id,
                                      immediate=True))
    ours, our_creds = connect_sandbox_account(services, Platform.X,
                                              name=f"Vänsterpartiet Värmland {word}")
    stranger = sandbox.state.add_account("x", f"Pendlare {word}")
    tweet(sandbox, our_creds, f"Vi står upp för akuten i Arvika! {word}")
    tweet(sandbox, stranger, f"Akuten i Arvika stänger nattetid, {word}")

    assert poll(services, x_search_source(db, word)).items_new == 2

    found = by_title(db, word)
    mine, theirs = found[f"@{our_creds['username']}"], found[f"@{stranger['username']}"]
    assert mine.own_account_id == ours.id
    assert (mine.author_platform, mine.author_id, mine.author_handle) == (
        "x", our_creds["user_id"], our_creds["username"].lower())
    assert theirs.own_account_id is None and theirs.author_id == stranger["user_id"]
    # One alert: the stranger's tweet; ours is not news to us, nor unread.
    [notice] = notices(db, reader, MENTION)
    assert notice.link == f"/mentions/{theirs.id}"
    with db.session() as session:
        user = session.get(User, reader.id)
        assert unread_mentions(session, user) == 1
        shown = {m.id for m in search(session, user, MentionFilter(text=word)).items}
        hidden = search(session, user, MentionFilter(text=word, own=OWN_HIDDEN))
        only = search(session, user, MentionFilter(own=OWN_ONLY))
    assert shown == {mine.id, theirs.id}
    assert [m.id for m in hidden.items] == [theirs.id] and hidden.total.value == 1
    assert mine.id in {m.id for m in only.items}
    assert all(m.own_account_id is not None for m in only.items)


def test_a_pages_own_answer_among_its_comments_is_ours(services, db, sandbox):
    word = unique_word()
    make_watchlist(db, word, name=f"Kommentarer {word}")
    page, creds = connect_sandbox_account(services, Platform.FACEBOOK, name=f"V Kil {word}")
    state = sandbox.state
    page_account = state.account(creds["page_id"])
    visitor = state.account(state.add_account("facebook", f"Besökare {word}")["page_id"])
    assert page_account is not None and visitor is not None
    post = state.add_post(page_account, "post", f"Akuten ska vara öppen! {word}",
                          post_id=f"{page_account.key}_{state.new_id()}")
    for author, text in ((visitor, f"Håller med om {word}"), (page_account, f"Tack! {word}")):
        state.add_post(author, "comment", text, parent=post,
                       post_id=f"{post.id.split('_')[-1]}_{state.new_id()}")

    assert poll(services, fb_comments_source(db, page.id)).items_new == 2

    with db.session() as session:
        found = {m.text: m for m in session.scalars(
            select(Mention).where(Mention.source_kind == SourceKind.FB_COMMENTS,
                                  Mention.text.contains(word)))}
    assert found[f"Tack! {word}"].own_account_id == page.id
    assert found[f"Tack! {word}"].author_id == creds["page_id"]
    assert found[f"Håller med om {word}"].own_account_id is None


def test_an_outlet_quoting_our_post_word_for_word_is_coverage_not_a_copy(services, db):
    """Our tweet and an article that quotes it whole are the same words: dedupe would make the
    article a sighting of our post and the coverage would vanish. They stay two stories."""
    word = unique_word()
    make_watchlist(db, word)
    ours, creds = connect_sandbox_account(services, Platform.X, name=f"V {word}")
    words = (f"Vi kräver att akuten i Arvika hålls öppen dygnet runt, {word}, för alla som "
             "bor i norra Värmland och behöver vård nära")
    tweeted = Item(item_key="x:1", url="https://x.com/v/status/1", title=f"@v: {words}",
                   text=words, published_at=None, outlet="X", source_kind=SourceKind.X_SEARCH,
                   author=Author("x", creds["user_id"], creds["username"]))
    run(db, None, [tweeted])
    run(db, None, [story("nwt-1", "Partiet kräver öppen akut", words,
                         url="https://nwt.se/akuten")])
    with db.session() as session:
        found = {m.outlet: m.own_account_id for m in session.scalars(
            select(Mention).where(Mention.text.contains(word)))}
    assert found == {"X": ours.id, "NWT": None}


def test_an_account_connected_later_makes_what_it_wrote_before_ours(services, db, sandbox,
                                                                    make_user):
    word = unique_word()
    make_watchlist(db, word)
    name = f"Vänsterpartiet Arvika {word}"
    creds = sandbox.state.add_account("x", name)  # on X, not yet in Megafon
    tweet(sandbox, creds, f"Möte om akuten i kväll {word}")
    poll(services, x_search_source(db, word))
    [before] = by_title(db, word).values()
    assert before.own_account_id is None

    admin = make_user(Role.ADMIN)
    with db.session() as session:  # as web/accounts.py connects an account
        account = connect_account(session, box=services.box, platforms=services.platforms,
                                  user=session.get(User, admin.id), platform=Platform.X,
                                  name=name, organisation_id=district(session).id,
                                  credentials=creds)
        assert mark_own_mentions(session, account.id) == 1
        assert mark_own_mentions(session, account.id) == 0  # nothing twice
    [after] = by_title(db, word).values()
    assert after.own_account_id == account.id


def test_without_an_id_the_handle_decides_in_any_case_with_an_id_only_the_id(services, db):
    """A handle can pass to someone else; an id cannot: an author whose id is known is ours
    only by that id."""
    word = unique_word()
    make_watchlist(db, word)
    ours, creds = connect_sandbox_account(services, Platform.X, name=f"V {word}")
    handle = creds["username"].upper()

    def item(key: str, author: Author) -> Item:
        return Item(item_key=key, url=f"https://x.com/{handle}/status/{key}",
                    title=f"@{handle}: {word} {key}", text=f"{word} {key}", published_at=None,
                    outlet="X", source_kind=SourceKind.X_SEARCH, author=author)

    run(db, None, [item("1", Author("x", None, f"@{handle}")),
                   item("2", Author("x", "999", handle)),
                   item("3", Author("facebook", None, handle))])
    with db.session() as session:
        marked = {m.text.split()[-1]: m.own_account_id for m in session.scalars(
            select(Mention).where(Mention.text.contains(word)))}
        assert marked == {"1": ours.id, "2": None, "3": None}
        # Forgotten, as if stored before the account was connected: found again the same way.
        session.execute(update(Mention).where(Mention.text.contains(word))
                        .values(own_account_id=None))
        assert mark_own_mentions(session, ours.id) == 1


def test_our_post_is_left_out_of_the_daily_digest(services, db, make_user):
    word = unique_word()
    watchlist = make_watchlist(db, word, name=f"Vården {word}")
    reader = make_user(Role.COMMS)
    with db.session() as session:
        session.add(AlertSubscription(user_id=reader.id, watchlist_id=watchlist.id,
                                      immediate=False, digest_hour=7))
    ours, creds = connect_sandbox_account(services, Platform.X, name=f"V {word}")
    at = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # 07:30 in Stockholm
    run(db, None, [
        Item(item_key="x:1", url="https://x.com/v/status/1", title=f"@v: Vårt inlägg {word}",
             text=f"Vårt inlägg {word}", published_at=None, outlet="X",
             source_kind=SourceKind.X_SEARCH, author=Author("x", creds["user_id"])),
        story("nwt-1", f"Tidningens artikel {word}", f"Om vården, {word}", outlet="NWT")],
        now=at - timedelta(hours=1))

    assert send_digests(db, at) == 1
    [digest] = notices(db, reader, DIGEST)
    assert f"Tidningens artikel {word}" in digest.parameters["listing"]
    assert "Vårt inlägg" not in digest.parameters["listing"] and digest.parameters["count"] == 1

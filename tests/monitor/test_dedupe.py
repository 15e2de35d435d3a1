"""Dedupe: the same story updated, re-syndicated, or linked with tracking parameters is one
mention with several sightings; a different story on the same issue is another mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.db import Database
from monitor.dedupe import (
    MIN_SHINGLES,
    SAME_STORY_JACCARD,
    Signature,
    comparable_text,
    forget_indexes,
    normalize_url,
    signature,
    signature_of,
)
from monitor.mentions import ingest
from monitor.models import Mention
from tests.monitor.stories import (
    AKUTEN,
    AKUTEN_PROTEST,
    AKUTEN_SISTER,
    BUSSEN,
    SKOLAN,
    copy_of,
    make_source,
    make_watchlist,
    matcher_for,
    mentions,
    run,
    story,
)

ARTICLE = "https://www.nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid"


@pytest.mark.parametrize("variant", [
    ARTICLE,
    ARTICLE + "/",
    ARTICLE + "?utm_source=facebook&utm_medium=social&utm_campaign=nwt",
    ARTICLE + "?fbclid=IwAR3xYz",
    ARTICLE + "?gclid=abc&mc_cid=123&mc_eid=456#kommentarer",
    ARTICLE + "?ref=twitter&share=1",
    "HTTP://WWW.NWT.SE:80/2025-01-14/akuten-i-arvika-kan-stanga-nattetid",
    "https://nwt.se:443/2025-01-14/akuten-i-arvika-kan-stanga-nattetid#top",
    "https://www.nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid/amp/",
    "https://www.nwt.se/amp/2025-01-14/akuten-i-arvika-kan-stanga-nattetid",
    ARTICLE + "?outputType=amp",
    "https://amp.nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid.amp",
])
def test_tracking_amp_and_spelling_variants_are_one_url(variant):
    assert normalize_url(variant) == normalize_url(ARTICLE) == (
        "https://nwt.se/2025-01-14/akuten-i-arvika-kan-stanga-nattetid")


def test_what_identifies_a_page_is_kept():
    assert normalize_url("https://vf.se/artikel?id=5&utm_source=x&a=1") == \
        "https://vf.se/artikel?a=1&id=5"
    assert normalize_url("https://vf.se/artikel?id=5") != normalize_url("https://vf.se/artikel?id=6")
    assert normalize_url("https://vf.se/a/b") != normalize_url("https://vf.se/a/c")
    assert normalize_url("https://vf.se:8443/a") == "https://vf.se:8443/a"
    assert normalize_url("https://vf.se/Artikel") != normalize_url("https://vf.se/artikel")
    assert normalize_url("https://sverigesradio.se/artikel/vård-i-arvika") == \
        normalize_url("https://sverigesradio.se/artikel/v%C3%A5rd-i-arvika")
    assert normalize_url("") == normalize_url(None) == ""
    assert normalize_url("urn:uuid:1234") == "urn:uuid:1234"


def test_signatures_tell_copies_from_other_stories():
    original, sister = signature(AKUTEN), signature(AKUTEN_SISTER)
    assert original.jaccard(sister) >= SAME_STORY_JACCARD and original.same_story(sister)
    assert not original.same_story(signature(AKUTEN_PROTEST))
    assert original.jaccard(signature(AKUTEN_PROTEST)) < 0.2
    assert not original.same_story(signature(BUSSEN))
    # A copy that dropped the last paragraph: contained in the original.
    shortened = AKUTEN.rsplit("\n\n", 1)[0]
    assert original.same_story(signature(shortened))
    # Short texts are never near-duplicates of each other, however alike.
    assert signature("Bra jobbat!").size < MIN_SHINGLES
    assert not signature("Bra jobbat!").same_story(signature("Bra jobbat!"))


def test_signature_is_stored_compactly_and_read_back():
    sig = signature(AKUTEN)
    stored = sig.dumps()
    assert stored.startswith("mh1:") and len(stored) < 800
    back = Signature.loads(stored)
    assert back is not None and back.size == sig.size and back.jaccard(sig) == 1.0
    assert Signature.loads(None) is None and Signature.loads("garbage") is None


def test_a_changed_headline_does_not_change_the_signature():
    assert comparable_text("Ny rubrik", AKUTEN) == AKUTEN
    assert signature_of("Akuten kan stänga", AKUTEN).jaccard(
        signature_of("Akuten i Arvika stänger nattetid – oppositionen rasar", AKUTEN)) == 1.0


def test_the_same_story_updated_resyndicated_and_with_utm_is_one_mention(db: Database):
    """The issue's case: an updated item, a sister paper's copy, a link with utm parameters."""
    make_watchlist(db, "Arvika AND akut*")
    nwt, af, fb = make_source(db, "NWT"), make_source(db, "Arvika Nyheter"), make_source(db, "VF")
    first = story("nwt-123", "Akuten kan stänga nattetid", AKUTEN, ARTICLE)
    assert len(run(db, nwt, [first])) == 1
    # NWT updates the item: new headline, same GUID.
    assert run(db, nwt, [copy_of(first, title="Akuten i Arvika stänger nattetid – "
                                 "oppositionen rasar")]) == []
    # The sister paper runs it with its own headline and a few words changed.
    sister = story("an-987", "Nattstängd akut i Arvika väcker ilska", AKUTEN_SISTER,
                   "https://www.arvikanyheter.se/2025-01-14/nattstangd-akut", "Arvika Nyheter")
    assert run(db, af, [sister]) == []
    # Another feed links to NWT's article through a newsletter with tracking parameters.
    linked = story("vf-55", "Läs också: akuten i Arvika", "Mer i NWT.",
                   ARTICLE + "?utm_source=nyhetsbrev&utm_medium=email&fbclid=x", "VF")
    assert run(db, fb, [linked]) == []

    [mention] = mentions(db)
    assert mention.title == "Akuten i Arvika stänger nattetid – oppositionen rasar"
    assert [s.outlet for s in mention.sightings] == ["NWT", "Arvika Nyheter", "VF"]
    assert mention.sightings[0].title == mention.title


def test_an_updated_item_is_one_mention_with_one_sighting(db: Database):
    make_watchlist(db, "Arvika")
    nwt = make_source(db, "NWT")
    item = story("guid-1", "Akuten kan stänga", AKUTEN, ARTICLE)
    [mention_id] = run(db, nwt, [item])
    assert run(db, nwt, [item]) == []  # the next poll: nothing new
    run(db, nwt, [copy_of(item, title="Akuten i Arvika stänger nattetid",
                          text=AKUTEN + "\n\nUppdaterad: regionrådet svarar i kväll.")])
    [mention] = mentions(db)
    assert mention.id == mention_id and len(mention.sightings) == 1
    assert mention.title == "Akuten i Arvika stänger nattetid"
    assert mention.text.endswith("regionrådet svarar i kväll.")


def test_a_syndicated_copy_on_a_sister_paper_is_a_second_sighting(db: Database):
    make_watchlist(db, "Arvika AND akut*")
    nwt, kt = make_source(db, "NWT"), make_source(db, "Karlstads-Tidningen")
    run(db, nwt, [story("nwt-1", "Akuten kan stänga nattetid", AKUTEN, ARTICLE)])
    new = run(db, kt, [story("kt-1", "Ilska mot nattstängd akut", AKUTEN_SISTER,
                             "https://kt.se/nyheter/ilska-mot-nattstangd-akut",
                             "Karlstads-Tidningen")])
    assert new == []
    [mention] = mentions(db)
    assert [(s.outlet, s.url) for s in mention.sightings] == [
        ("NWT", ARTICLE),
        ("Karlstads-Tidningen", "https://kt.se/nyheter/ilska-mot-nattstangd-akut")]


def test_a_different_story_on_the_same_issue_is_another_mention(db: Database):
    make_watchlist(db, "Arvika AND akut*")
    nwt = make_source(db, "NWT")
    run(db, nwt, [story("nwt-1", "Akuten kan stänga nattetid", AKUTEN, ARTICLE)])
    run(db, nwt, [story("nwt-2", "V samlar namn för akuten", AKUTEN_PROTEST,
                        "https://www.nwt.se/2025-01-18/v-samlar-namn-for-akuten")])
    found = mentions(db)
    assert len(found) == 2 and all(len(m.sightings) == 1 for m in found)


def test_the_same_url_is_the_same_story_however_late_but_text_only_within_a_week(db: Database):
    make_watchlist(db, "Arvika")
    nwt, vf = make_source(db, "NWT"), make_source(db, "VF")
    start = datetime(2025, 1, 14, 8, 0, tzinfo=UTC)
    run(db, nwt, [story("nwt-1", "Akuten kan stänga", AKUTEN, ARTICLE)], now=start)
    later = start + timedelta(days=30)
    # A "most read" feed brings the old article back a month later: the same story.
    assert run(db, vf, [story("vf-1", "Mest läst", AKUTEN, ARTICLE + "?ref=mostread")],
               now=later) == []
    # A copy under another address after the week is treated as new.
    assert len(run(db, vf, [story("vf-2", "Akuten", AKUTEN_SISTER, "https://vf.se/akuten")],
                   now=later)) == 1
    assert len(mentions(db)) == 2


def test_the_database_is_the_truth_for_every_process(db: Database):
    """A mention stored by another process (another engine, so another cache) is found when
    that cache is brought up to date, and a mention whose transaction rolled back is not."""
    make_watchlist(db, "Arvika")
    nwt, kt = make_source(db, "NWT"), make_source(db, "KT")
    t0 = datetime(2025, 1, 14, 8, 0, tzinfo=UTC)
    other = Database(db.url)  # another process's engine, hence its own index
    try:
        run(db, nwt, [story("nwt-0", "Buss", BUSSEN + " Arvika.", "https://nwt.se/0")], now=t0)
        run(other, kt, [story("kt-0", "Skolan", SKOLAN, "https://kt.se/0")],
            now=t0 + timedelta(minutes=1))  # the other process's index is built here
        run(db, nwt, [story("nwt-1", "Akuten", AKUTEN, ARTICLE)], now=t0 + timedelta(hours=1))
        assert run(other, kt, [story("kt-1", "Ilska", AKUTEN_SISTER, "https://kt.se/1")],
                   now=t0 + timedelta(hours=2)) == []
    finally:
        other.dispose()
    assert len(mentions(db)) == 3

    session = db.sessions()
    try:
        ingest(session, None, [story("tip-1", "Tips", AKUTEN_PROTEST)], matcher_for(db),
               now=t0 + timedelta(hours=3))
        session.rollback()
    finally:
        session.close()
    assert len(run(db, kt, [story("kt-2", "Namn", AKUTEN_PROTEST, "https://kt.se/2")],
                   now=t0 + timedelta(hours=4))) == 1
    forget_indexes()  # a fresh process: everything comes from the database
    assert run(db, nwt, [story("nwt-2", "V", AKUTEN_PROTEST, "https://nwt.se/v")],
               now=t0 + timedelta(hours=5)) == []
    assert len(mentions(db)) == 4


def test_two_copies_in_one_batch_are_one_mention(db: Database):
    make_watchlist(db, "Arvika")
    feed = make_source(db, "NWT")
    new = run(db, feed, [story("a", "Akuten", AKUTEN, ARTICLE),
                         story("b", "Akuten igen", AKUTEN_SISTER, "https://nwt.se/kopia")])
    assert len(new) == 1
    [mention] = mentions(db)
    assert len(mention.sightings) == 2
    with db.session() as session:
        assert session.get(Mention, mention.id).signature.startswith("mh1:")


def test_a_new_headline_with_a_new_slug_and_guid_is_still_the_same_story(db: Database):
    """Some papers put the headline in the link, and the link is the GUID: a changed headline
    is then a new item to the feed. The lead is the same, so it is the same story."""
    make_watchlist(db, "Arvika")
    feed = make_source(db, "VF")
    lead = ("Regionen vill stänga akutmottagningen i Arvika nattetid från mars, och "
            "oppositionen protesterar.")
    run(db, feed, [story("https://vf.se/akuten-kan-stanga", "Akuten kan stänga", lead,
                         "https://vf.se/akuten-kan-stanga")])
    assert run(db, feed, [story("https://vf.se/akuten-i-arvika-stanger-nattetid",
                                "Akuten i Arvika stänger nattetid", lead,
                                "https://vf.se/akuten-i-arvika-stanger-nattetid")]) == []
    [mention] = mentions(db)
    assert len(mention.sightings) == 2

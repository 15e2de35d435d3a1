"""Notifications: stored once per person, counted, listed, marked read, rendered per language."""

from core.i18n import N_
from core.notifications import (
    ALL,
    Msgid,
    Notification,
    mark_read,
    notify,
    recent,
    render,
    translations_for,
    unread_count,
)
from core.users import Role, User

SUBJECT = N_("Post to %(account)s failed")
BODY = N_("%(explanation)s")


def _notify(db, users, kind="delivery_failed", link="/deliveries/1", **params):
    params.setdefault("account", "VP Värmland")
    params.setdefault("explanation", "Något gick fel")
    with db.session() as session:
        people = [session.get(User, u.id) for u in users]
        return [n.id for n in notify(session, people, kind, SUBJECT, BODY, link, **params)]


def _unread(db, user):
    with db.session() as session:
        return unread_count(session, session.get(User, user.id))


def test_each_user_is_notified_once_and_inactive_users_not_at_all(db, make_user):
    anna, bo, gone = make_user(Role.COMMS), make_user(Role.BOARD), make_user(Role.COMMS)
    with db.session() as session:
        session.get(User, gone.id).active = False
    created = _notify(db, [anna, bo, anna, gone])
    assert len(created) == 2
    assert (_unread(db, anna), _unread(db, bo), _unread(db, gone)) == (1, 1, 0)


def test_no_second_unread_notice_of_the_same_kind_and_link(db, make_user):
    anna = make_user(Role.COMMS)
    assert len(_notify(db, [anna])) == 1
    assert _notify(db, [anna]) == []                                  # still unread: not again
    assert len(_notify(db, [anna], link="/deliveries/2")) == 1        # another thing
    assert len(_notify(db, [anna], kind="delivery_uncertain")) == 1   # another kind
    assert len(_notify(db, [anna], kind="digest", link=None)) == 1
    assert _notify(db, [anna], kind="digest", link=None) == []
    with db.session() as session:
        mark_read(session, session.get(User, anna.id), ALL)
    assert len(_notify(db, [anna])) == 1                              # read: news again
    assert _unread(db, anna) == 1


def test_recent_lists_newest_first_and_only_ones_own(db, make_user):
    anna, bo = make_user(Role.COMMS), make_user(Role.BOARD)
    first = _notify(db, [anna], link="/deliveries/1")
    second = _notify(db, [anna, bo], link="/deliveries/2")
    with db.session() as session:
        listed = recent(session, session.get(User, anna.id), limit=10)
        assert [n.id for n in listed] == [second[0], first[0]]
        assert len(recent(session, session.get(User, anna.id), limit=1)) == 1
        assert [n.user_id for n in recent(session, session.get(User, bo.id))] == [bo.id]


def test_mark_read_touches_only_ones_own_notifications(db, make_user):
    anna, bo = make_user(Role.COMMS), make_user(Role.BOARD)
    anna_ids = _notify(db, [anna], link="/a") + _notify(db, [anna], link="/b")
    bo_ids = _notify(db, [bo], link="/a")
    with db.session() as session:
        assert mark_read(session, session.get(User, anna.id), [anna_ids[0], bo_ids[0]]) == 1
        assert mark_read(session, session.get(User, anna.id), []) == 0
    assert (_unread(db, anna), _unread(db, bo)) == (1, 1)
    with db.session() as session:
        assert mark_read(session, session.get(User, anna.id), ALL) == 1
        assert mark_read(session, session.get(User, anna.id), ALL) == 0
        assert session.get(Notification, anna_ids[0]).read_at is not None
    assert (_unread(db, anna), _unread(db, bo)) == (0, 1)


def test_rendering_translates_the_message_and_message_parameters(db, make_user):
    anna = make_user(Role.COMMS)
    explanation = N_("The platform did not answer properly. Megafon tries again a few times.")
    [nid] = _notify(db, [anna], explanation=Msgid(explanation), account="VP Åmål")
    catalogue = {SUBJECT: "Inlägget till %(account)s misslyckades",
                 explanation: "Plattformen svarade inte ordentligt."}
    with db.session() as session:
        notification = session.get(Notification, nid)
        swedish = render(notification, lambda m: catalogue.get(m, m))
        english = render(notification, lambda m: m)
    assert swedish.subject == "Inlägget till VP Åmål misslyckades"
    assert swedish.body == "Plattformen svarade inte ordentligt."
    assert english.subject == "Post to VP Åmål failed" and english.body == explanation


def test_a_message_parameter_keeps_its_own_parameters(db, make_user):
    """A source's failure reaches the alert as its msgid and values (issue 17: it was English
    text inside a Swedish notice)."""
    host = N_("The host name could not be found (%(host)s).")
    [nid] = _notify(db, [make_user(Role.COMMS)],
                    explanation=Msgid(host, {"host": "nwt.invalid"}), account="VP Åmål")
    with db.session() as session:
        swedish = render(session.get(Notification, nid), translations_for("sv").gettext)
        english = render(session.get(Notification, nid), lambda m: m)
    assert swedish.body == "Värdnamnet hittades inte (nwt.invalid)."
    assert english.body == "The host name could not be found (nwt.invalid)."


def test_a_broken_translation_falls_back_to_english(db, make_user):
    [nid] = _notify(db, [make_user(Role.COMMS)])
    with db.session() as session:
        rendered = render(session.get(Notification, nid), lambda m: "Inlägg till %(konto)s")
    assert rendered.subject == "Post to VP Värmland failed"


def test_catalogues_load_without_flask():
    swedish = translations_for("sv")
    assert swedish.gettext("a msgid nobody translated") == "a msgid nobody translated"
    assert translations_for("en").gettext(SUBJECT) == SUBJECT

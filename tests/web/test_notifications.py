"""Every user sees their own notifications in the app, with an unread count in the header."""

import re

from core.i18n import N_
from core.notifications import Msgid, notify, translations_for
from core.users import Role, User
from tests.web.conftest import csrf_token

SUBJECT = N_("Post to %(account)s failed")
BODY = N_("Post by %(author)s: “%(excerpt)s”\n\n%(explanation)s")
EXPLANATION = N_("The platform refused the post's content. Read the platform's reason below, "
                 "edit the post and send it again.")


def _notify(db, user, link="/deliveries/1", account="VP Värmland"):
    with db.session() as session:
        [created] = notify(session, [session.get(User, user.id)], "delivery_failed", SUBJECT,
                           BODY, link, account=account, author="Anna", excerpt="Hej!",
                           explanation=Msgid(EXPLANATION))
        return created.id


def _badge(html: str) -> int:
    found = re.search(r'data-testid="notification-badge"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_a_board_member_sees_their_own_and_the_badge_drops_when_read(db, logged_in, make_user):
    client, board = logged_in(Role.BOARD)
    someone_else = make_user(Role.COMMS)
    first = _notify(db, board, "/deliveries/1", account="VP Arvika")
    _notify(db, board, "/deliveries/2", account="VP Säffle")
    theirs = _notify(db, someone_else, "/deliveries/3", account="VP Hemlig")

    page = client.get("/notifications", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "VP Arvika" in html and "VP Säffle" in html and "VP Hemlig" not in html
    assert _badge(html) == 2

    token = csrf_token(client, "/notifications")
    client.post("/notifications/read", data={"id": str(first), "csrf_token": token})
    assert _badge(client.get("/").get_data(as_text=True)) == 1
    client.post("/notifications/read", data={"id": str(theirs), "csrf_token": token})
    assert _badge(client.get("/").get_data(as_text=True)) == 1          # not theirs to mark
    response = client.post("/notifications/read", data={"all": "1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    html = client.get("/notifications").get_data(as_text=True)
    assert _badge(html) == 0 and "VP Arvika" in html                    # read, still listed

    other_client, _ = logged_in(Role.COMMS)
    assert "VP Hemlig" not in other_client.get("/notifications").get_data(as_text=True)


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(db, logged_in):
    client, comms = logged_in(Role.COMMS)
    nid = _notify(db, comms, "/deliveries/42")
    token = csrf_token(client, "/notifications")
    response = client.post("/notifications/read",
                           data={"id": str(nid), "open": "1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/deliveries/42")
    assert _badge(client.get("/notifications").get_data(as_text=True)) == 0


def test_shown_in_the_readers_language_and_escaped(db, logged_in):
    client, comms = logged_in(Role.COMMS)
    _notify(db, comms, account="<script>alert(1)</script>")
    html = client.get("/notifications").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert translations_for("sv").gettext(EXPLANATION) in html           # Swedish by default
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    token = csrf_token(client, "/notifications")
    client.post("/language/en", data={"csrf_token": token})
    html = client.get("/notifications").get_data(as_text=True)
    assert "Post to &lt;script&gt;alert(1)&lt;/script&gt; failed" in html
    assert "edit the post and send it again." in html


def test_marking_read_needs_login_and_a_csrf_token(db, client, logged_in):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    user_client, user = logged_in(Role.BOARD)
    _notify(db, user)
    assert user_client.post("/notifications/read", data={"all": "1"}).status_code == 400
    assert _badge(user_client.get("/").get_data(as_text=True)) == 1


def test_every_page_shows_the_badge(db, logged_in):
    client, admin = logged_in(Role.ADMIN)
    _notify(db, admin)
    for path in ("/", "/compose", "/accounts/", "/admin/users", "/notifications"):
        assert _badge(client.get(path).get_data(as_text=True)) == 1, path

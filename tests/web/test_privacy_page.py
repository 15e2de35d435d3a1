"""The admin's personal-data page: find a person's mentions, export them, erase them only when
the erasure is confirmed."""

from __future__ import annotations

import json
from datetime import timedelta

from core.users import Role
from monitor.models import SourceKind, Watchlist
from tests.monitor.test_privacy import NOW, _mention


def test_the_admin_page_finds_exports_and_erases_with_confirmation(logged_in, db):
    with db.session() as session:
        issue = Watchlist(name="Buss", query="buss*")
        session.add(issue)
        session.flush()
        session.add(_mention("9", SourceKind.X_SEARCH, NOW - timedelta(days=3),
                             "@lisa_l: Bussarna!", "Bussarna är bra", handle="lisa_l",
                             issue=issue.id))
    from tests.web.conftest import csrf_token

    client, admin = logged_in(Role.ADMIN)
    page = client.get("/admin/privacy?subject=@lisa_l")
    assert page.status_code == 200 and "@lisa_l: Bussarna!" in page.text
    token = csrf_token(client, "/admin/privacy")
    download = client.post("/admin/privacy/export", data={"subject": "@lisa_l",
                                                          "csrf_token": token})
    assert download.mimetype == "application/json"
    assert json.loads(download.data)["mentions"][0]["text"] == "Bussarna är bra"
    unconfirmed = client.post("/admin/privacy/erase", data={"subject": "@lisa_l",
                                                            "csrf_token": token})
    assert unconfirmed.status_code == 302
    assert "@lisa_l: Bussarna!" in client.get("/admin/privacy?subject=@lisa_l").text
    client.post("/admin/privacy/erase", data={"subject": "@lisa_l", "confirm": "yes",
                                              "csrf_token": token})
    assert "@lisa_l: Bussarna!" not in client.get("/admin/privacy?subject=@lisa_l").text
    log = client.get("/mentions").text  # the mention stays, counted, without its words
    assert 'data-testid="personal-removed"' in log and "Bussarna är bra" not in log
    log = client.get("/admin/privacy").text  # who did what, by name
    assert f"<td>{admin.name}</td>" in log
    short = client.get("/admin/privacy?subject=x")
    assert short.status_code == 400 and "minst tre tecken" in short.text  # said on the page

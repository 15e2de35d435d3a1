"""The REST API as a script uses it: a token made on the Tokens page (shown once, stored only as
a digest) or by `megafon token create`; read and write scopes; the user's role and organisation
apply (another association's objects are 404); errors are JSON with a stable code; lists page
by cursor; posts queued through the API go out through the sandbox like any other."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from cli.main import main
from core.tokens import ApiToken
from core.users import Role
from publisher.dispatch import Dispatcher
from publisher.models import Platform
from tests.factories import queue_post
from tests.web.conftest import csrf_token, login


def make_token(client: FlaskClient, scope: str = "write", name: str = "skript") -> str:
    """A token made through the Tokens page, as a user would; the secret shown once."""
    page = client.post("/tokens", data={"name": name, "scope": scope,
                                        "csrf_token": csrf_token(client, "/tokens")})
    assert page.status_code == 200
    found = re.search(r'data-testid="token-secret">([^<]+)<', page.text)
    assert found, page.text
    assert found.group(1) not in client.get("/tokens").text  # never again
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app, make_user) -> Callable[..., tuple[FlaskClient, str, object]]:
    """A client (without cookies) and a token of a new user with the given role."""
    def make(role: Role = Role.COMMS, organisation=None, scope: str = "write"):
        user = make_user(role, organisation)
        browser = app.test_client()
        login(browser, user)
        token = make_token(browser, scope)
        return app.test_client(use_cookies=False), token, user

    return make


def test_the_secret_is_shown_once_and_stored_only_as_a_digest(api, db):
    client, token, user = api()
    with db.session() as session:
        stored = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert token.startswith(f"mgf_{stored.prefix}_")
        assert token.split("_", 2)[2] not in (stored.digest, stored.name, stored.prefix)
    assert client.get("/api/v1/posts", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/posts", headers=bearer(token + "x")).status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer mgf_", "Basic abc", "Bearer mgf_x_y",
                                    "Bearer " + "mgf_" + "a" * 300])
def test_no_valid_token_is_401_with_a_json_error(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_browser_without_a_token_gets_nothing(logged_in):
    browser, _ = logged_in(Role.ADMIN)  # a session cookie is not an API credential
    assert browser.get("/api/v1/posts").status_code == 401
    assert browser.post("/api/v1/posts", json={"text": "x", "account_ids": [1]}
                        ).status_code == 401


def test_a_write_token_queues_a_post_that_goes_out_and_can_be_read_back(api, services,
                                                                       make_account):
    client, token, _ = api(Role.COMMS)
    x, _ = make_account(Platform.X)
    accounts = client.get("/api/v1/accounts", headers=bearer(token)).json["items"]
    assert [a["id"] for a in accounts] == [x.id]
    assert set(accounts[0]) == {"id", "platform", "name", "handle", "active",
                                "credentials_status", "organisation"}  # never a secret
    created = client.post("/api/v1/posts", headers=bearer(token),
                          json={"text": "Via API, ut på X", "account_ids": [x.id]})
    assert created.status_code == 201, created.json
    post = created.json
    assert [d["state"] for d in post["deliveries"]] == ["scheduled"]
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    again = client.get(f"/api/v1/posts/{post['id']}", headers=bearer(token)).json
    [delivery] = again["deliveries"]
    assert delivery["state"] == "published" and delivery["external_url"]
    history = client.get(f"/api/v1/deliveries/{delivery['id']}", headers=bearer(token)).json
    assert [e["to_state"] for e in history["events"]][-1] == "published"


def test_a_later_post_keeps_its_time_and_can_be_cancelled(api, make_account):
    client, token, _ = api(Role.COMMS)
    fb, _ = make_account(Platform.FACEBOOK)
    when = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    created = client.post("/api/v1/posts", headers=bearer(token), json={
        "text": "Senare", "account_ids": [fb.id], "scheduled_at": when.isoformat()})
    assert created.status_code == 201, created.json
    assert datetime.fromisoformat(created.json["scheduled_at"]) == when
    cancelled = client.post(f"/api/v1/posts/{created.json['id']}/cancel",
                            headers=bearer(token))
    assert cancelled.status_code == 200
    assert cancelled.json["post"]["deliveries"][0]["state"] == "cancelled"
    assert cancelled.json["cancelled"] == [cancelled.json["post"]["deliveries"][0]["id"]]


def test_a_read_token_may_only_look(api, make_account):
    client, token, _ = api(Role.COMMS, scope="read")
    x, _ = make_account(Platform.X)
    assert client.get("/api/v1/posts", headers=bearer(token)).status_code == 200
    refused = client.post("/api/v1/posts", headers=bearer(token),
                          json={"text": "Nej", "account_ids": [x.id]})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_the_role_applies_a_board_member_cannot_queue(api, make_account):
    client, token, _ = api(Role.BOARD)
    x, _ = make_account(Platform.X)
    refused = client.post("/api/v1/posts", headers=bearer(token),
                          json={"text": "Nej", "account_ids": [x.id]})
    assert refused.status_code == 403
    assert client.get("/api/v1/reports", headers=bearer(token)).status_code == 200


def test_another_associations_objects_are_not_found(api, services, make_org, make_user,
                                                    make_account):
    arvika, karlstad = make_org("V Arvika"), make_org("V Karlstad")
    theirs, _ = make_account(Platform.FACEBOOK, organisation=karlstad)
    mine, _ = make_account(Platform.FACEBOOK, organisation=arvika)
    post = queue_post(services.db, make_user(Role.COMMS, karlstad), [theirs], text="Karlstads")
    client, token, _ = api(Role.COMMS, organisation=arvika)
    assert [a["id"] for a in client.get("/api/v1/accounts", headers=bearer(token)
                                        ).json["items"]] == [mine.id]
    assert client.get("/api/v1/posts", headers=bearer(token)).json["items"] == []
    for path in (f"/api/v1/posts/{post.id}", f"/api/v1/deliveries/{post.deliveries[0].id}"):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.post(f"/api/v1/posts/{post.id}/cancel", headers=bearer(token)
                       ).status_code == 404
    refused = client.post("/api/v1/posts", headers=bearer(token),
                          json={"text": "På deras sida", "account_ids": [theirs.id]})
    assert refused.status_code == 422 and "account_ids" in refused.json["error"]["fields"]


@pytest.mark.parametrize("body", [
    {}, {"text": "x"}, {"text": 5, "account_ids": [1]}, {"text": "x", "account_ids": []},
    {"text": "x\x00y", "account_ids": [1]}, {"text": "x", "account_ids": ["1"]},
    {"text": "x", "account_ids": [1], "scheduled_at": "0001-01-01T00:00:00"},
    {"text": "x", "account_ids": [1], "scheduled_at": "imorgon"},
    {"text": "x" * 20_000, "account_ids": [1]}, [], "text"])
def test_bad_input_is_a_422_that_names_the_field_and_saves_nothing(api, make_account, db,
                                                                  body):
    from publisher.models import Post

    client, token, _ = api(Role.COMMS)
    make_account(Platform.X)
    response = client.post("/api/v1/posts", headers=bearer(token), json=body)
    assert response.status_code in (400, 422), response.json
    assert response.json["error"]["code"] in ("invalid", "bad_request")
    with db.session() as session:
        assert session.scalar(select(Post.id)) is None


def test_a_post_the_networks_refuse_says_why_per_field(api, make_account):
    client, token, _ = api(Role.COMMS)
    x, _ = make_account(Platform.X)
    response = client.post("/api/v1/posts", headers=bearer(token),
                           json={"text": "ö" * 300, "account_ids": [x.id]})
    assert response.status_code == 422
    assert "280" in response.json["error"]["message"]


def test_lists_page_by_cursor_without_repeating(api, services, make_account):
    client, token, user = api(Role.COMMS)
    x, _ = make_account(Platform.X)
    for n in range(7):
        queue_post(services.db, user, [x], text=f"Inlägg {n}")
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/posts", headers=bearer(token), query_string=query).json
        seen += [p["text"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Inlägg {n}" for n in reversed(range(7))]
    bad = client.get("/api/v1/posts?cursor=%%%", headers=bearer(token))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_request"


def test_mentions_are_searched_and_triaged(api, db):
    from monitor.models import Mention, SourceKind

    with db.session() as session:
        for n in range(3):
            session.add(Mention(title=f"Bussarna i Arvika {n}", outlet="NWT", text="bussarna",
                                source_kind=SourceKind.FEED, hits="[]",
                                sort_at=datetime(2026, 3, 1 + n, tzinfo=UTC),
                                first_seen_at=datetime(2026, 3, 1 + n, tzinfo=UTC)))
    client, token, _ = api(Role.COMMS)
    page = client.get("/api/v1/mentions?limit=2", headers=bearer(token)).json
    assert [m["title"] for m in page["items"]] == ["Bussarna i Arvika 2", "Bussarna i Arvika 1"]
    rest = client.get("/api/v1/mentions", headers=bearer(token),
                      query_string={"cursor": page["next_cursor"]}).json
    assert [m["title"] for m in rest["items"]] == ["Bussarna i Arvika 0"]
    first = page["items"][0]["id"]
    marked = client.patch(f"/api/v1/mentions/{first}", headers=bearer(token),
                          json={"triage": "relevant", "note": "Svara i dag"})
    assert marked.status_code == 200 and marked.json["triage"] == "relevant"
    assert client.get(f"/api/v1/mentions/{first}", headers=bearer(token)
                      ).json["note"] == "Svara i dag"
    bad = client.get("/api/v1/mentions?q=%22obalanserad", headers=bearer(token))
    assert bad.status_code == 422


def test_a_revoked_token_and_a_deactivated_users_token_stop_at_once(api, app, db):
    client, token, user = api(Role.COMMS)
    browser = app.test_client()
    login(browser, user)
    with db.session() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    browser.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(browser,
                                                                              "/tokens")})
    assert client.get("/api/v1/posts", headers=bearer(token)).status_code == 401

    other_client, other, other_user = api(Role.COMMS)
    from core.users import User

    with db.session() as session:
        session.get(User, other_user.id).active = False
    assert other_client.get("/api/v1/posts", headers=bearer(other)).status_code == 401


def test_the_openapi_document_lists_every_operation_and_the_docs_page_shows_it(
        client, logged_in):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    operations = {(m.upper(), p) for p, ms in spec["paths"].items() for m in ms}
    assert {("GET", "/api/v1/posts"), ("POST", "/api/v1/posts"),
            ("POST", "/api/v1/posts/{post_id}/cancel"), ("GET", "/api/v1/mentions"),
            ("PATCH", "/api/v1/mentions/{mention_id}"), ("GET", "/api/v1/reports"),
            ("GET", "/api/v1/accounts"), ("GET", "/api/v1/watchlists"),
            ("GET", "/api/v1/deliveries/{delivery_id}")} <= operations
    browser, _ = logged_in(Role.BOARD)
    docs = browser.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/posts/{post_id}/cancel" in docs.text


def test_megafon_token_create_prints_a_working_token_once(services, make_user, app):
    make_user(Role.ADMIN)
    owner = make_user(Role.COMMS, email="skript@example.org")
    runner = CliRunner()
    result = runner.invoke(main, ["token", "create", "--user", owner.email, "--scope", "read",
                                  "--name", "CI"],
                           env={"MEGAFON_DATABASE_URL": services.settings.database_url,
                                "MEGAFON_INSTANCE_PATH": str(services.settings.instance_path)})
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    client = app.test_client(use_cookies=False)
    assert client.get("/api/v1/posts", headers=bearer(secret)).status_code == 200
    listed = runner.invoke(main, ["token", "list", "--user", owner.email],
                           env={"MEGAFON_DATABASE_URL": services.settings.database_url})
    assert "CI" in listed.stdout and secret not in listed.stdout
    unknown = runner.invoke(main, ["token", "create", "--user", "nobody@example.org"],
                            env={"MEGAFON_DATABASE_URL": services.settings.database_url})
    assert unknown.exit_code != 0 and "nobody@example.org" in unknown.output


def test_every_api_operation_refuses_a_caller_without_a_token(app, client):
    """No API operation is reachable without a token, whatever the method (the pages' login
    rules are tests/web/test_roles.py's)."""
    operations = [(rule, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("api_") and rule.endpoint != "api_docs"
                  for method in sorted((rule.methods or set()) - {"OPTIONS", "HEAD"})]
    assert len(operations) >= 11
    for rule, method in operations:
        path = re.sub(r"<int:(\w+)>", "1", rule.rule)
        response = client.open(path, method=method, json={})
        assert response.status_code == 401, (method, path)
        assert response.json["error"]["code"] == "unauthorized"


def test_each_token_has_a_rate_limit_counted_in_the_database(tmp_path, sqlite_url, sandbox):
    """Three requests a minute: the fourth is a 429 with Retry-After; two app instances (two
    web processes) share the count; the headers say where the token stands."""
    from core.auth import create_user
    from core.clock import utcnow
    from core.tokens import create_token
    from tests.conftest import build_services
    from web import create_app

    services = build_services(tmp_path / "instance", sqlite_url, sandbox.url,
                              api_requests_per_minute=3)
    try:
        with services.db.session() as session:
            user = create_user(session, email="skript@example.org", name="Skript",
                               password="correct horse battery", role=Role.COMMS)
        first, second = (create_app(services.settings, services).test_client()
                         for _ in range(2))
        for _attempt in range(2):  # a minute that turns mid-test counts afresh: once more
            with services.db.session() as session:
                token = create_token(session, session.merge(user), session.merge(user),
                                     "skript", "read").secret
            minute = utcnow().replace(second=0, microsecond=0)
            answers = [first.get("/api/v1/posts", headers=bearer(token)),
                       second.get("/api/v1/posts", headers=bearer(token)),
                       first.get("/api/v1/posts", headers=bearer(token)),
                       second.get("/api/v1/posts", headers=bearer(token))]
            if utcnow().replace(second=0, microsecond=0) == minute:
                break
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
        refused = answers[-1]
        assert refused.json["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-RateLimit-Remaining"] == "0"
    finally:
        services.db.dispose()


def test_a_queued_post_is_changed_and_one_gone_out_is_not(api, services, make_account):
    client, token, _ = api(Role.COMMS)
    x, _ = make_account(Platform.X)
    fb, _ = make_account(Platform.FACEBOOK)
    later = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    post = client.post("/api/v1/posts", headers=bearer(token), json={
        "text": "Första", "account_ids": [x.id, fb.id], "scheduled_at": later.isoformat()}).json
    changed = client.patch(f"/api/v1/posts/{post['id']}", headers=bearer(token),
                           json={"text": "Andra", "account_ids": [fb.id]})
    assert changed.status_code == 200, changed.json
    assert changed.json["text"] == "Andra"
    assert datetime.fromisoformat(changed.json["scheduled_at"]) == later  # kept
    states = {d["account_id"]: d["state"] for d in changed.json["deliveries"]}
    assert states == {x.id: "cancelled", fb.id: "scheduled"}
    too_long = client.patch(f"/api/v1/posts/{post['id']}", headers=bearer(token),
                            json={"text": "x" * 70_000})
    assert too_long.status_code == 422

    now_post = client.post("/api/v1/posts", headers=bearer(token),
                           json={"text": "Nu", "account_ids": [x.id]}).json
    Dispatcher(services.db, services.platforms, services.box, "w1").run_once()
    gone = client.patch(f"/api/v1/posts/{now_post['id']}", headers=bearer(token),
                        json={"text": "För sent"})
    assert gone.status_code == 422 and "kan inte ändras" in gone.json["error"]["message"]


def test_campaigns_and_their_coverage_are_read_through_the_api(api, services, make_user,
                                                              make_account, make_org):
    from tests.campaigns.helpers import new_campaign, next_minute, roll_out

    x, _ = make_account(Platform.X, name="VP Värmland")
    lead = make_user(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(services.db, lead)
    start = next_minute()
    roll_out(services.db, lead, campaign, start, start + timedelta(minutes=10))
    client, token, _ = api(Role.BOARD, scope="read")
    listed = client.get("/api/v1/campaigns", headers=bearer(token)).json["items"]
    assert [c["name"] for c in listed] == ["Välfärd före vinster"]
    matrix = client.get(f"/api/v1/campaigns/{campaign.id}/coverage", headers=bearer(token))
    assert matrix.status_code == 200, matrix.json
    assert [(r["account_id"], r["cell"]) for r in matrix.json["rows"]] == [(x.id, "planned")]
    assert client.get("/api/v1/campaigns/999/coverage", headers=bearer(token)
                      ).status_code == 404
    other, other_token, _ = api(Role.COMMS, organisation=make_org("V Kil"))
    assert other.get("/api/v1/campaigns", headers=bearer(other_token)).json["items"] == []
    assert other.get(f"/api/v1/campaigns/{campaign.id}/coverage", headers=bearer(other_token)
                     ).status_code == 404


def test_a_campaigns_asks_and_their_reminders_are_read_through_the_api(api, services, make_user,
                                                                       make_account, make_org):
    from campaigns.asks import ask_associations, decline
    from campaigns.reminders import send_due_reminders
    from core.users import User
    from tests.campaigns.helpers import new_campaign

    kil, arvika = make_org("V Kil"), make_org("V Arvika")
    make_account(Platform.X, organisation=kil)
    arvika_writer = make_user(Role.COMMS, organisation=arvika)
    lead = make_user(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(services.db, lead)  # deadline in two days, reminders 48 h before
    with services.db.session() as session:
        asks = ask_associations(session, session.get(User, lead.id), campaign.id,
                                campaign.messages[0].id, [kil.id, arvika.id],
                                now=campaign.deadline - timedelta(hours=49))
        decline(session, session.get(User, arvika_writer.id), asks[1].id, "Årsmöte")
        assert send_due_reminders(session, campaign.deadline - timedelta(hours=47)) == 1
    client, token, _ = api(Role.BOARD, scope="read")
    listed = client.get("/api/v1/campaigns", headers=bearer(token)).json["items"]
    assert listed[0]["reminder_hours"] == 48
    found = client.get(f"/api/v1/campaigns/{campaign.id}/asks", headers=bearer(token))
    assert found.status_code == 200, found.json
    by_name = {a["organisation_name"]: a for a in found.json["items"]}
    assert by_name["V Kil"]["answer"] == "waiting" and by_name["V Kil"]["reminded_at"]
    assert by_name["V Arvika"]["answer"] == "declined"
    assert by_name["V Arvika"]["decline_reason"] == "Årsmöte"
    assert by_name["V Arvika"]["reminded_at"] is None
    assert by_name["V Kil"]["asked_by"] == lead.name
    other, other_token, _ = api(Role.COMMS, organisation=make_org("V Torsby"))
    assert other.get(f"/api/v1/campaigns/{campaign.id}/asks", headers=bearer(other_token)
                     ).status_code == 404
    own, own_token, _ = api(Role.COMMS, organisation=arvika)
    assert [a["organisation_name"] for a in own.get(
        f"/api/v1/campaigns/{campaign.id}/asks", headers=bearer(own_token)).json["items"]] == [
        "V Arvika"]

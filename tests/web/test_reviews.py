"""Approval on the web: a comms person's post waits, a campaign lead sends it back and approves
it, each hears of it by e-mail in their own language; the post page tells the whole story."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from core.auth import district
from core.clock import utcnow
from core.db import Database
from core.entered_time import EnteredTime
from core.mail import MailSender, send_pending
from core.users import Organisation, Role, User
from publisher.approval import PostReview
from publisher.deliveries import claim_due, transition
from publisher.models import Account, Delivery, DeliveryState, Platform, Post
from tests.smtp import smtp_server  # noqa: F401
from tests.web.conftest import csrf_token, login

S = DeliveryState


def speaking(db: Database, user: User, locale: str) -> User:
    with db.session() as session:
        session.get(User, user.id).locale = locale
    return user


def client_for(app, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def post_form(client: FlaskClient, path: str, data: dict[str, object], page: str = "/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def deliveries_of(db: Database, post_id: int) -> dict[int, DeliveryState]:
    with db.session() as session:
        return {d.account_id: d.state for d in session.scalars(
            select(Delivery).where(Delivery.post_id == post_id))}


def the_post(db: Database) -> Post:
    with db.session() as session:
        return session.scalars(select(Post).order_by(Post.id.desc())).first()


def mail(smtp, services) -> None:
    send_pending(services.db, MailSender(smtp.url, base_url="http://megafon.test"))


def test_an_approval_round_trip_between_two_people_by_email(app, services, make_user,
                                                             make_account, smtp_server):  # noqa: F811
    db = services.db
    x, _ = make_account(Platform.X, name="Vänstern Värmland X")
    facebook, _ = make_account(Platform.FACEBOOK, name="Vänstern Värmland FB")
    admin = make_user(Role.ADMIN)
    author = speaking(db, make_user(Role.COMMS), "sv")
    lead = speaking(db, make_user(Role.CAMPAIGN_LEAD), "sv")
    english = speaking(db, make_user(Role.ADMIN), "en")  # another reviewer, in English

    # the admin: posts on the X account need approval
    admin_client = client_for(app, admin)
    assert 'data-testid="approval-rules"' in admin_client.get("/accounts/").text
    done = post_form(admin_client, "/accounts/approval", {"accounts": [x.id]}, "/accounts/")
    assert done.status_code == 302
    with db.session() as session:
        assert session.get(Account, x.id).needs_approval
        assert not session.get(Account, facebook.id).needs_approval

    # the author: the composer says what will happen, and the post waits
    writer = client_for(app, author)
    composer = writer.get("/compose").text
    assert f'value="{x.id}" data-platform="x" data-needs-approval="1"' in composer
    assert 'data-review-label="Skicka för granskning"' in composer
    refused = writer.post("/compose", data={"text": "", "accounts": [x.id],
                                            "csrf_token": csrf_token(writer, "/compose")})
    assert ">Skicka för granskning</button>" in refused.text  # the chosen account needs it
    assert post_form(writer, "/compose", {"text": "Kollektivtrafiken ska vara gratis!",
                                          "accounts": [x.id, facebook.id]},
                     "/compose").status_code == 302
    post = the_post(db)
    assert deliveries_of(db, post.id) == {x.id: S.AWAITING_APPROVAL, facebook.id: S.SCHEDULED}
    home = writer.get("/").text  # comms of the district may review: the link, but no badge
    assert 'data-testid="nav-reviews"' in home and 'data-testid="review-badge"' not in home
    mail(smtp_server, services)
    [asked] = smtp_server.messages(to=lead.email)
    assert asked.subject == "Ett inlägg väntar på ditt godkännande"
    assert "Kollektivtrafiken ska vara gratis!" in asked.body
    assert f"http://megafon.test/posts/{post.id}" in asked.body
    [asked_in_english] = smtp_server.messages(to=english.email)
    assert asked_in_english.subject == "A post waits for your approval"
    assert smtp_server.messages(to=author.email) == []

    # the campaign lead: the list, with a badge; sent back with a comment
    reviewer = client_for(app, lead)
    home = reviewer.get("/").text
    assert '>Granskning <span class="badge" data-testid="review-badge"' in home
    listing = reviewer.get("/reviews").text
    assert f'data-post="{post.id}"' in listing and "Vänstern Värmland X" in listing
    page = reviewer.get(f"/posts/{post.id}").text
    assert 'data-testid="approve-form"' in page
    empty = post_form(reviewer, f"/posts/{post.id}/return", {"comment": " "}, "/reviews")
    assert empty.status_code == 400 and "Skriv vad som ska ändras" in empty.text
    assert post_form(reviewer, f"/posts/{post.id}/return",
                     {"comment": "Nämn stormötet på torsdag."}, "/reviews").status_code == 302
    assert deliveries_of(db, post.id)[x.id] is S.RETURNED
    mail(smtp_server, services)
    [back] = smtp_server.messages(to=author.email)
    assert back.subject == "Ditt inlägg skickades tillbaka"
    assert "Nämn stormötet på torsdag." in back.body

    # the author changes it: it waits again
    edit = f"/posts/{post.id}/edit"
    assert "Spara och skicka för granskning" in writer.get(edit).text
    shown = EnteredTime.showing(post.scheduled_at)
    assert post_form(writer, edit, {"text": "Kollektivtrafiken ska vara gratis! Stormöte torsdag.",
                                    "accounts": [x.id, facebook.id], "when": "at",
                                    "scheduled_date": shown.date,
                                    "scheduled_time": shown.time}, edit).status_code == 302
    assert deliveries_of(db, post.id)[x.id] is S.AWAITING_APPROVAL

    # the campaign lead approves; the author hears it
    later = EnteredTime.showing(utcnow() + timedelta(hours=2))
    approved = post_form(reviewer, f"/posts/{post.id}/approve",
                         {"when": "at", "scheduled_date": later.date,
                          "scheduled_time": later.time, "comment": "Bra!"}, "/reviews")
    assert approved.status_code == 302
    assert deliveries_of(db, post.id)[x.id] is S.SCHEDULED
    mail(smtp_server, services)
    approved_mail = [m for m in smtp_server.messages(to=author.email)
                     if m.subject == "Ditt inlägg är godkänt"]
    assert len(approved_mail) == 1 and "Bra!" in approved_mail[0].body
    assert 'data-testid="review-badge"' not in reviewer.get("/").text
    with db.session() as session:
        thread = [(r.user_id, r.action) for r in session.scalars(
            select(PostReview).where(PostReview.post_id == post.id).order_by(PostReview.id))]
    assert thread == [(author.id, "submitted"), (lead.id, "returned"), (author.id, "changed"),
                      (lead.id, "approved")]
    story = writer.get(f"/posts/{post.id}").text
    for words in ("Nämn stormötet på torsdag.", "skickade tillbaka det", "godkände det",
                  f"godkänt av {lead.name}", f"skickat tillbaka av {lead.name}"):
        assert words in story, words


def make_waiting(services, make_user, make_account, organisation=None):
    x, _ = make_account(Platform.X, organisation=organisation)
    with services.db.session() as session:
        session.execute(update(Account).where(Account.id == x.id).values(needs_approval=True))
    author = make_user(Role.COMMS, organisation=organisation)
    from tests.factories import queue_post

    return queue_post(services.db, author, [x], text="Väntar"), author


def test_only_the_districts_reviewers_see_and_act(app, services, make_user, make_account,
                                                  make_org, logged_in):
    db = services.db
    association = make_org()
    post, author = make_waiting(services, make_user, make_account, organisation=association)
    delivery_states = deliveries_of(db, post.id)
    for role, organisation in ((Role.BOARD, None), (Role.COMMS, association),
                               (Role.ADMIN, association), (Role.CAMPAIGN_LEAD, association)):
        client, _ = logged_in(role, organisation=organisation)
        assert client.get("/reviews").status_code == 403, (role, organisation)
        token = csrf_token(client, "/")
        for action, data in (("approve", {}), ("return", {"comment": "Nej"})):
            answer = client.post(f"/posts/{post.id}/{action}", data={**data, "csrf_token": token})
            assert answer.status_code == 403, (role, action)
        assert 'data-testid="nav-reviews"' not in client.get("/").text
        assert client.post("/accounts/approval", data={"accounts": [], "csrf_token": token}
                           ).status_code == 403
    assert deliveries_of(db, post.id) == delivery_states
    with db.session() as session:
        assert session.scalar(select(PostReview.action).where(
            PostReview.post_id == post.id).order_by(PostReview.id.desc())) == "submitted"
        assert session.get(Organisation, district(session).id).posts_need_approval is False

    # the author's own organisation sees the post page, but reviewing is not theirs
    writer = client_for(app, author)
    assert writer.get(f"/posts/{post.id}").status_code == 200
    assert 'data-testid="approve-form"' not in writer.get(f"/posts/{post.id}").text
    # a reviewer of the district approves
    client, _ = logged_in(Role.COMMS)
    assert f'data-post="{post.id}"' in client.get("/reviews").text
    assert post_form(client, f"/posts/{post.id}/approve", {}, "/reviews").status_code == 302
    assert set(deliveries_of(db, post.id).values()) == {S.SCHEDULED}


def test_ones_own_post_and_a_passed_time_are_explained(app, services, make_user, make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    with db.session() as session:
        session.execute(update(Account).where(Account.id == x.id).values(needs_approval=True))
    lead = make_user(Role.CAMPAIGN_LEAD)
    from tests.factories import queue_post

    post = queue_post(db, lead, [x], text="Mitt eget inlägg")
    own = client_for(app, lead)
    refused = post_form(own, f"/posts/{post.id}/approve", {}, "/")
    assert refused.status_code == 400, refused.text
    assert "Du har skrivit inlägget" in refused.text, refused.text[refused.text.find("<main"):]

    with db.session() as session:  # the reviewer comes back after the post's time
        past = utcnow() - timedelta(hours=1)
        session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=past))
        session.execute(update(Delivery).where(Delivery.post_id == post.id)
                        .values(due_at=past, next_attempt_at=past))
    reviewer = client_for(app, make_user(Role.ADMIN))
    page = reviewer.get(f"/posts/{post.id}").text
    assert 'data-testid="time-passed"' in page
    kept = post_form(reviewer, f"/posts/{post.id}/approve", {"when": "at"}, "/")
    assert kept.status_code == 400
    assert "passerade medan det väntade på godkännande" in kept.text
    assert claim_due(db, "w1") == []  # never published late
    assert post_form(reviewer, f"/posts/{post.id}/approve", {"when": "soon"},
                     "/").status_code == 302
    assert deliveries_of(db, post.id)[x.id] is S.SCHEDULED


def test_a_failed_delivery_is_changed_and_sent_again_in_one_form(app, services, make_user,
                                                                make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    author = make_user(Role.COMMS)
    from tests.factories import queue_post

    post = queue_post(db, author, [x], text="Med ett stavfel")
    [delivery_id] = claim_due(db, "w1")
    with db.session() as session:
        assert transition(session, delivery_id, S.SENDING, S.FAILED, holder="w1",
                          detail="refused", error_message="Text refused")
    client = client_for(app, author)
    page = client.get(f"/posts/{post.id}").text
    assert 'data-testid="fix-form"' in page and "Text refused" in page
    prefix = f"fix{delivery_id}-"
    bad = post_form(client, f"/deliveries/{delivery_id}/fix",
                    {prefix + "text": "", prefix + "when": "soon"}, f"/posts/{post.id}")
    assert bad.status_code == 400
    assert deliveries_of(db, post.id)[x.id] is S.FAILED  # nothing saved half-way
    done = post_form(client, f"/deliveries/{delivery_id}/fix",
                     {prefix + "text": "Utan stavfel", prefix + "when": "soon"},
                     f"/posts/{post.id}")
    assert done.status_code == 302
    assert deliveries_of(db, post.id)[x.id] is S.SCHEDULED
    assert the_post(db).text == "Utan stavfel"
    assert claim_due(db, "w1") == [delivery_id]


def test_a_failed_delivery_beside_a_published_one_goes_out_as_a_new_post(app, services,
                                                                        make_user, make_account):
    db = services.db
    x, _ = make_account(Platform.X)
    facebook, _ = make_account(Platform.FACEBOOK)
    author = make_user(Role.COMMS)
    from tests.factories import queue_post

    post = queue_post(db, author, [x, facebook], text="Ute på Facebook, inte på X")
    claimed = claim_due(db, "w1")
    with db.session() as session:
        by_account = {d.account_id: d.id for d in session.scalars(
            select(Delivery).where(Delivery.id.in_(claimed)))}
        assert transition(session, by_account[facebook.id], S.SENDING, S.PUBLISHED,
                          holder="w1", detail="published (1)")
        assert transition(session, by_account[x.id], S.SENDING, S.FAILED, holder="w1",
                          detail="refused", error_message="Text refused")
    client = client_for(app, author)
    prefix = f"fix{by_account[x.id]}-"
    done = post_form(client, f"/deliveries/{by_account[x.id]}/fix",
                     {prefix + "text": "Nu på X också", prefix + "when": "soon"},
                     f"/posts/{post.id}")
    assert done.status_code == 302
    new = the_post(db)
    assert new.id != post.id and done.location.endswith(f"/posts/{new.id}")
    assert deliveries_of(db, new.id) == {x.id: S.SCHEDULED}
    assert deliveries_of(db, post.id) == {x.id: S.FAILED, facebook.id: S.PUBLISHED}
    with db.session() as session:
        assert session.get(Post, post.id).text == "Ute på Facebook, inte på X"

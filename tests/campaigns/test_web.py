"""The campaign pages: a lead creates and rolls out through forms; bad input is answered at its
field and loses nothing; the board reads; other associations' users are refused."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from campaigns.models import CampaignAsk
from core.clock import to_local, utcnow
from core.users import Role
from publisher.models import Delivery, MediaFile, Platform, Post
from tests.campaigns.helpers import new_campaign, next_minute
from tests.factories import count, queue_post
from tests.media_images import picture
from tests.web.conftest import csrf_token


def campaign_form(**changes):
    now = utcnow()
    today = to_local(now).date()
    deadline = to_local(now + timedelta(days=3))
    form = {"name": "Skolan åt alla", "description": "Om skolan", "starts_on": f"{today}",
            "ends_on": f"{today + timedelta(days=10)}", "deadline_date": f"{deadline:%Y-%m-%d}",
            "deadline_time": "18:00", "target_kind": "district", "utm_source_x": "x",
            "utm_source_facebook": "facebook", "utm_medium": "social",
            "text_x": "Skolan åt alla!", "text_facebook": "Vi vill ha en skola för alla.",
            "hashtags": "#skolan", "link": "https://example.org/skola"}
    form.update(changes)
    return form


def test_a_lead_creates_rolls_out_and_reads_the_matrix_and_csv(logged_in, make_account, db):
    make_account(Platform.X, name="Distriktet X")
    make_account(Platform.FACEBOOK, name="Distriktet FB")
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/campaigns/new")
    response = client.post("/campaigns/new", data={**campaign_form(), "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    assert "utm_campaign=skolan-at-alla" in page and "utm_source=facebook" in page
    campaign_id = int(re.search(r"/campaigns/(\d+)", response.location).group(1))
    message_id = re.search(r'<option [^>]*value="(\d+)"', page).group(1)
    start = to_local(next_minute() + timedelta(hours=1))
    end = start + timedelta(minutes=30)
    response = client.post(f"/campaigns/{campaign_id}/rollout", data={
        "csrf_token": token, "message_id": message_id, "start_date": f"{start:%Y-%m-%d}",
        "start_time": f"{start:%H:%M}", "end_date": f"{end:%Y-%m-%d}",
        "end_time": f"{end:%H:%M}"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(db, Post) == 2 == count(db, Delivery)
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert page.count('data-cell="planned"') == 2
    body = client.get(f"/campaigns/{campaign_id}/coverage.csv?state=planned")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {"Distriktet X", "Distriktet FB"}


def test_bad_input_is_answered_at_its_field_and_kept(logged_in, db):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/campaigns/new")
    response = client.post("/campaigns/new", data={
        **campaign_form(name="", starts_on="igår", text_x="a" * 300, link="example.org"),
        "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="field-error"') >= 4
    assert "a" * 300 in page and "Om skolan" in page  # nothing typed is lost


def test_the_board_reads_but_may_not_change(logged_in, make_user, make_account, db):
    make_account(Platform.X)
    campaign = new_campaign(db, make_user(Role.CAMPAIGN_LEAD))
    client, _ = logged_in(Role.BOARD)
    token = csrf_token(client, "/")
    assert client.get("/campaigns").status_code == 200
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "rollout-form" not in page and 'data-testid="nav-campaigns"' in page
    assert client.get(f"/campaigns/{campaign.id}/coverage.csv").status_code == 200
    start = to_local(next_minute() + timedelta(hours=1))
    response = client.post(f"/campaigns/{campaign.id}/rollout", data={
        "csrf_token": token, "message_id": campaign.messages[0].id,
        "start_date": f"{start:%Y-%m-%d}", "start_time": f"{start:%H:%M}",
        "end_date": f"{start:%Y-%m-%d}", "end_time": f"{start:%H:%M}"})
    assert response.status_code == 403 and count(db, Post) == 0


def test_another_associations_user_is_refused_a_campaign_not_for_them(
        logged_in, make_user, make_org, db):
    kil, arvika = make_org("Kil"), make_org("Arvika")
    campaign = new_campaign(db, make_user(Role.CAMPAIGN_LEAD), target_kind="associations",
                            association_ids=[kil.id])
    mine, _ = logged_in(Role.COMMS, organisation=kil)
    theirs, _ = logged_in(Role.COMMS, organisation=arvika)
    assert mine.get(f"/campaigns/{campaign.id}").status_code == 200
    assert campaign.name in mine.get("/campaigns").get_data(as_text=True)
    assert theirs.get(f"/campaigns/{campaign.id}").status_code == 403
    assert theirs.get(f"/campaigns/{campaign.id}/coverage.csv").status_code == 403
    assert campaign.name not in theirs.get("/campaigns").get_data(as_text=True)
    assert theirs.get("/campaigns/999999").status_code == 404


def test_a_messages_picture_and_its_description_go_with_every_post(logged_in, make_account, db):
    make_account(Platform.X)
    make_account(Platform.FACEBOOK)
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/campaigns/new")
    response = client.post("/campaigns/new", content_type="multipart/form-data", data={
        **campaign_form(), "csrf_token": token, "alt_text": "Affisch: Välfärd före vinster",
        "image": (io.BytesIO(picture()), "affisch.png")})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location).get_data(as_text=True)
    assert 'alt="Affisch: Välfärd före vinster"' in page
    campaign_id = int(re.search(r"/campaigns/(\d+)", response.location).group(1))
    message_id = re.search(r'<option [^>]*value="(\d+)"', page).group(1)
    start = to_local(next_minute() + timedelta(hours=1))
    response = client.post(f"/campaigns/{campaign_id}/rollout", data={
        "csrf_token": token, "message_id": message_id, "start_date": f"{start:%Y-%m-%d}",
        "start_time": f"{start:%H:%M}", "end_date": f"{start:%Y-%m-%d}",
        "end_time": f"{start:%H:%M}"})
    assert response.status_code == 302
    with db.session() as session:
        posts = list(session.scalars(select(Post)).unique())
        assert len(posts) == 2
        assert all([m.alt_text for m in p.media] == ["Affisch: Välfärd före vinster"]
                   for p in posts)


def test_a_refused_campaign_keeps_no_picture(logged_in, db):
    client, _ = logged_in(Role.CAMPAIGN_LEAD)
    token = csrf_token(client, "/campaigns/new")
    response = client.post("/campaigns/new", content_type="multipart/form-data", data={
        **campaign_form(name=""), "csrf_token": token, "alt_text": "Affisch",
        "image": (io.BytesIO(picture(color=(9, 9, 9))), "affisch.png")})
    assert response.status_code == 422
    assert "välj dem igen" in response.get_data(as_text=True)
    assert count(db, MediaFile) == 0


def test_a_post_written_outside_is_linked_by_its_address_and_nonsense_is_answered(
        logged_in, make_user, make_account, db):
    x, _ = make_account(Platform.X)
    client, lead = logged_in(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(db, lead, name="Länkad")
    post = queue_post(db, make_user(Role.COMMS), [x], text="Skrivet utanför kampanjen")
    token = csrf_token(client, f"/campaigns/{campaign.id}")
    for nonsense in ("", "hej", "99999999999999999", "https://megafon.example/posts/999999/edit"):
        response = client.post(f"/campaigns/{campaign.id}/link",
                               data={"csrf_token": token, "post_id": nonsense})
        assert response.status_code == 422, nonsense
        assert 'class="field-error"' in response.get_data(as_text=True)
    response = client.post(f"/campaigns/{campaign.id}/link", data={
        "csrf_token": token, "post_id": f"https://megafon.example/posts/{post.id}/edit"})
    assert response.status_code == 302
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert page.count('data-cell="planned"') == 1


def test_asked_associations_answer_in_the_browserless_flow(logged_in, make_org, make_account,
                                                           db):
    kil, arvika, torsby = make_org("Kil"), make_org("Arvika"), make_org("Torsby")
    kil_x, _ = make_account(Platform.X, organisation=kil, name=f"Kil {kil.id}")
    arvika_fb, _ = make_account(Platform.FACEBOOK, organisation=arvika, name=f"Arvika {kil.id}")
    lead_client, lead = logged_in(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(db, lead)
    token = csrf_token(lead_client, f"/campaigns/{campaign.id}")
    response = lead_client.post(f"/campaigns/{campaign.id}/ask", data={
        "csrf_token": token, "ask_message_id": campaign.messages[0].id,
        "ask_organisation_ids": [kil.id, arvika.id]})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.session() as session:
        asks = {a.organisation_id: a.id for a in session.scalars(select(CampaignAsk))}

    kil_client, _ = logged_in(Role.COMMS, organisation=kil)
    page = kil_client.get(f"/campaigns/asks/{asks[kil.id]}").get_data(as_text=True)
    assert "Välfärd före vinster!" in page and "utm_source=x" in page
    token = csrf_token(kil_client, f"/campaigns/asks/{asks[kil.id]}")
    response = kil_client.post(f"/campaigns/asks/{asks[kil.id]}", data={
        "csrf_token": token, "accounts": [kil_x.id],
        f"text_{kil_x.id}": "Kil är med: välfärd före vinster!"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kil_client.get(f"/campaigns/asks/{asks[arvika.id]}").status_code == 403

    arvika_client, _ = logged_in(Role.COMMS, organisation=arvika)
    token = csrf_token(arvika_client, f"/campaigns/asks/{asks[arvika.id]}")
    response = arvika_client.post(f"/campaigns/asks/{asks[arvika.id]}/decline",
                                  data={"csrf_token": token, "reason": ""})
    assert response.status_code == 422  # a reason is needed
    response = arvika_client.post(f"/campaigns/asks/{asks[arvika.id]}/decline",
                                  data={"csrf_token": token, "reason": "Årsmöte den veckan"})
    assert response.status_code == 302
    torsby_client, _ = logged_in(Role.COMMS, organisation=torsby)
    assert torsby_client.get(f"/campaigns/asks/{asks[kil.id]}").status_code == 403
    assert torsby_client.get(f"/campaigns/{campaign.id}").status_code == 403
    # Asked, Kil sees the district's campaign, and in it only its own accounts.
    assert campaign.name in kil_client.get("/campaigns").get_data(as_text=True)
    kil_view = kil_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert kil_view.count("data-account=") == 1

    page = lead_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(rf'data-account="{kil_x.id}" data-cell="planned"', page)
    assert re.search(rf'data-account="{arvika_fb.id}" data-cell="declined"', page)
    assert "Årsmöte den veckan" in page


def test_overdue_cells_say_so_in_words_not_colour_alone(logged_in, make_user, make_account, db):
    make_account(Platform.X)
    lead = make_user(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(db, lead, deadline=next_minute() - timedelta(hours=2))
    client, _ = logged_in(Role.BOARD)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert page.count('data-testid="overdue"') == 1 and "Försenad" in page
    body = client.get(f"/campaigns/{campaign.id}/coverage.csv").get_data(as_text=True)
    assert body.splitlines()[1].endswith(",Försenad")


def test_a_lead_changes_the_utm_parameters_and_the_preview_follows(logged_in, db):
    client, lead = logged_in(Role.CAMPAIGN_LEAD)
    campaign = new_campaign(db, lead)
    token = csrf_token(client, f"/campaigns/{campaign.id}")
    response = client.post(f"/campaigns/{campaign.id}/utm", data={
        "csrf_token": token, "utm_source_x": "twitter", "utm_source_facebook": "fb",
        "utm_medium": "", "utm_campaign": "val 2026"})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count('class="field-error"') == 2
    response = client.post(f"/campaigns/{campaign.id}/utm", data={
        "csrf_token": token, "utm_source_x": "twitter", "utm_source_facebook": "fb",
        "utm_medium": "organic", "utm_campaign": "val-2026"})
    assert response.status_code == 302
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "utm_source=twitter&amp;utm_medium=organic&amp;utm_campaign=val-2026" in page
    assert "utm_source=fb&amp;" in page

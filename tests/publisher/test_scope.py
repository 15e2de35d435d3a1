"""The publishing services refuse a user out of role or scope themselves, with core.auth.NotAllowed,
and keep nothing of a refused action (rows, or picture files written for it): on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.auth import NotAllowed, organisations_for
from core.i18n import ValidationErrors
from core.users import OrganisationKind, Role, User
from publisher.accounts import connect_account, disconnect_account
from publisher.adapters.sandbox_directory import SandboxDirectory
from publisher.media import save_with_new_pictures, store_image
from publisher.models import Account, MediaFile, Platform, Post
from publisher.posts import DraftImage, PostDraft, create_post
from publisher.services import Services
from tests.factories import count
from tests.media_images import picture


@pytest.fixture
def services(services_on_any_db: Services) -> Services:
    return services_on_any_db


def connect(services: Services, user: User, organisation_id: int, name: str) -> Account:
    creds = SandboxDirectory(services.platforms.sandbox_url or "").create_account("x", name)
    with services.db.session() as session:
        return connect_account(session, box=services.box, platforms=services.platforms,
                               user=session.get(User, user.id), platform=Platform.X, name=name,
                               organisation_id=organisation_id, credentials=creds)


def test_an_association_user_may_not_connect_an_account_for_another(services, make_org,
                                                                    make_user):
    own, other = make_org(), make_org()
    comms = make_user(Role.COMMS, organisation=own)
    with pytest.raises(NotAllowed):
        connect(services, comms, other.id, "Intrång")
    assert count(services.db, Account) == 0
    assert connect(services, comms, own.id, "Egen").organisation_id == own.id


def test_a_role_that_may_not_manage_accounts_may_not_connect_one(services, make_org, make_user):
    own = make_org()
    with pytest.raises(NotAllowed):
        connect(services, make_user(Role.CAMPAIGN_LEAD, organisation=own), own.id, "Kampanj")
    assert count(services.db, Account) == 0


def test_an_association_user_may_not_disconnect_another_associations_account(
        services, make_org, make_user, make_account):
    own, other = make_org(), make_org()
    theirs, _ = make_account(Platform.FACEBOOK, organisation=other)
    comms = make_user(Role.COMMS, organisation=own)
    board = make_user(Role.BOARD, organisation=other)
    for user in (comms, board):
        with services.db.session() as session, pytest.raises(NotAllowed):
            disconnect_account(session, session.get(User, user.id), theirs.id)
    with services.db.session() as session:
        assert session.get(Account, theirs.id).active


def test_forms_offer_only_the_organisations_in_a_users_scope(services, make_org, make_user):
    own, other = make_org("Förening Ö"), make_org("Förening A")
    with services.db.session() as session:
        district_user = session.get(User, make_user(Role.COMMS).id)
        association_user = session.get(User, make_user(Role.COMMS, organisation=own).id)
        everyone = organisations_for(session, district_user)
        assert [o.kind for o in everyone][0] is OrganisationKind.DISTRICT
        assert [o.name for o in everyone][1:] == ["Förening A", "Förening Ö"]
        assert [o.id for o in organisations_for(session, association_user)] == [own.id]
        assert other.id not in {o.id for o in organisations_for(session, association_user)}


def _compose_with_a_new_picture(services: Services, user: User, account: Account, text: str
                                ) -> Path:
    """Store a picture and queue a post with it the way the composer does; the file's path."""
    root = services.settings.instance_path
    with services.db.session() as session:
        media = store_image(session, root, picture(color=(9, 8, 7)), name="affisch.png",
                            user_id=user.id)
        stored = [(media.sha256, media.path)]
        path = root / media.path
        draft = PostDraft(text=text, account_ids=[account.id],
                          media=[DraftImage(media.id, "Affisch", "affisch.png")])
        save_with_new_pictures(session, root, stored,
                               lambda: create_post(session, session.get(User, user.id), draft),
                               pictures_chosen=True)
    return path


def test_a_post_refused_for_scope_keeps_no_picture_file(services, make_org, make_user,
                                                        make_account):
    own, other = make_org(), make_org()
    theirs, _ = make_account(Platform.X, organisation=other)
    comms = make_user(Role.COMMS, organisation=own)
    root = services.settings.instance_path
    with pytest.raises(NotAllowed):
        _compose_with_a_new_picture(services, comms, theirs, "Intrång")
    assert count(services.db, Post) == 0 and count(services.db, MediaFile) == 0
    assert list((root / "media").rglob("*.png")) == []


def test_a_post_with_problems_keeps_no_picture_file_and_says_to_choose_again(
        services, make_user, make_account):
    x, _ = make_account(Platform.X)
    root = services.settings.instance_path
    with pytest.raises(ValidationErrors) as refused:
        _compose_with_a_new_picture(services, make_user(Role.COMMS), x, "   ")
    assert any("choose them again" in e.message and e.field == "media"
               for e in refused.value.errors)
    assert count(services.db, MediaFile) == 0 and list((root / "media").rglob("*.png")) == []


def test_a_saved_post_keeps_its_new_picture(services, make_user, make_account):
    x, _ = make_account(Platform.X)
    path = _compose_with_a_new_picture(services, make_user(Role.COMMS), x, "Stormöte i kväll")
    assert path.is_file()
    with services.db.session() as session:
        post = session.scalars(select(Post)).unique().one()
        assert [m.alt_text for m in post.media] == ["Affisch"]

"""`megafon backup` and `megafon restore`: a round trip into an empty database shows the same
posts, mentions and accounts, the accounts' credentials still decrypt with the same key, and the
pictures come back; a restore over data, a file that is not a backup, or a backup of the other
kind of database are refused with a clear message. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from core.settings import Settings
from monitor.models import Mention, SourceKind
from publisher.models import Account, Platform, Post
from publisher.services import Services
from tests.conftest import connect_sandbox_account
from tests.factories import queue_post

SECRET = "backup-test-secret-" + "x" * 30


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest) -> tuple[str, str]:
    """A migrated database with data to come, and an empty one of the same kind."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url"), request.getfixturevalue("empty_sqlite_url")
    return (request.getfixturevalue("postgres_url"),
            request.getfixturevalue("empty_postgres_url"))


def _services(instance: Path, url: str, sandbox_url: str) -> Services:
    return Services.from_settings(Settings.from_env(
        {}, instance_path=instance, database_url=url, sandbox="on", sandbox_url=sandbox_url,
        secret_key=SECRET))


def _env(instance: Path, url: str) -> dict[str, str]:
    return {"MEGAFON_DATABASE_URL": url, "MEGAFON_INSTANCE_PATH": str(instance),
            "MEGAFON_SECRET_KEY": SECRET}


def test_a_backup_restored_into_an_empty_database_holds_the_same_and_decrypts(
        tmp_path: Path, pair: tuple[str, str], sandbox, make_user):
    source_url, target_url = pair
    source = _services(tmp_path / "source", source_url, sandbox.url)
    account, credentials = connect_sandbox_account(source, Platform.X, name="VP Värmland")
    with source.db.session() as session:
        from core.auth import create_user
        from core.users import Role

        author = create_user(session, email="komms@example.org", name="Komms",
                             password="correct horse battery", role=Role.COMMS)
        session.add(Mention(title="Bussarna i Arvika", outlet="NWT", text="Bussarna",
                            source_kind=SourceKind.FEED, hits="[]"))
    queue_post(source.db, author, [account], text="Säkerhetskopierat inlägg")
    picture = tmp_path / "source" / "media" / "ab" / "abcdef.png"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    source.db.dispose()

    runner = CliRunner()
    made = runner.invoke(main, ["backup", "--out", str(tmp_path / "megafon.tar.gz")],
                         env=_env(tmp_path / "source", source_url))
    assert made.exit_code == 0, made.output
    assert "1 pictures" in made.output and "MEGAFON_SECRET_KEY" in made.output

    restored = runner.invoke(main, ["restore", str(tmp_path / "megafon.tar.gz")],
                             env=_env(tmp_path / "target", target_url))
    assert restored.exit_code == 0, restored.output
    target = _services(tmp_path / "target", target_url, sandbox.url)
    try:
        with target.db.session() as session:
            assert session.scalars(select(Post.text)).all() == ["Säkerhetskopierat inlägg"]
            assert session.scalars(select(Mention.title)).all() == ["Bussarna i Arvika"]
            [copy] = session.scalars(select(Account)).all()
            assert copy.name == "VP Värmland"
            opened = target.box.open(copy.credentials_sealed)  # the same key decrypts
            assert opened["access_token"] == credentials["access_token"]
        assert (tmp_path / "target" / "media" / "ab" / "abcdef.png").read_bytes() == \
            picture.read_bytes()

        again = runner.invoke(main, ["restore", str(tmp_path / "megafon.tar.gz")],
                              env=_env(tmp_path / "target", target_url))
        assert again.exit_code != 0 and "already holds data" in again.output
    finally:
        target.db.dispose()


def test_what_is_not_a_backup_is_refused_clearly(tmp_path: Path, empty_sqlite_url: str):
    runner = CliRunner()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup at all")
    result = runner.invoke(main, ["restore", str(junk)],
                           env=_env(tmp_path / "instance", empty_sqlite_url))
    assert result.exit_code != 0 and "Cannot read" in result.output
    assert not Path(empty_sqlite_url.removeprefix("sqlite:///")).exists()  # nothing written

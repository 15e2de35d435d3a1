import stat
from pathlib import Path

import pytest

from core.crypto import CredentialBox, CredentialsUnreadable, load_or_create_secret
from core.settings import Settings


def test_secret_is_generated_once_with_owner_only_permissions(tmp_path: Path):
    settings = Settings.from_env({}, instance_path=tmp_path)
    first = load_or_create_secret(settings)
    assert load_or_create_secret(settings) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_sealed_credentials_do_not_contain_the_secret_and_open_again():
    box = CredentialBox("s3cret")
    sealed = box.seal({"access_token": "tok-123"})
    assert "tok-123" not in sealed
    assert box.open(sealed) == {"access_token": "tok-123"}
    assert "tok" not in repr(box)


def test_rotation_keeps_old_credentials_readable():
    old = CredentialBox("old-key").seal({"a": "1"})
    rotated_box = CredentialBox("new-key", ["old-key"])
    assert rotated_box.open(old) == {"a": "1"}
    assert CredentialBox("new-key").open(rotated_box.rotate(old)) == {"a": "1"}


def test_wrong_key_gives_a_clear_error():
    with pytest.raises(CredentialsUnreadable):
        CredentialBox("other").open(CredentialBox("mine").seal({"a": "1"}))

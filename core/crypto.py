"""Credentials at rest: encrypted with Fernet keys derived from the secret key.

MEGAFON_SECRET_KEY is the master secret; when it is unset one is generated once into the instance
folder (mode 0600). MEGAFON_OLD_SECRET_KEYS (comma-separated) keeps old keys readable after a
rotation: MultiFernet decrypts with any and encrypts with the newest.
"""

from __future__ import annotations

import base64
import json
import os
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import Settings

SECRET_FILE = "secret_key"


class CredentialsUnreadable(RuntimeError):
    """Stored credentials cannot be decrypted: the secret key changed without rotation."""


def load_or_create_secret(settings: Settings) -> str:
    """The master secret: from the environment, else from (or newly into) the instance folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.ensure_instance_path() / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def _fernet_for(secret: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"megafon-credentials", info=b"fernet-v1"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class CredentialBox:
    """Encrypts and decrypts credential dictionaries; never logs or reprs their content."""

    def __init__(self, secret: str, old_secrets: list[str] | None = None) -> None:
        keys = [_fernet_for(secret)] + [_fernet_for(s) for s in old_secrets or [] if s]
        self._fernet = MultiFernet(keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialBox:
        old = [s.strip() for s in settings.old_secret_keys.split(",") if s.strip()]
        return cls(load_or_create_secret(settings), old)

    def seal(self, credentials: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(credentials).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise CredentialsUnreadable(
                "stored credentials cannot be decrypted with the current secret key"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt with the newest key (for `megafon rotate-keys`)."""
        return self._fernet.rotate(token.encode()).decode()

    def __repr__(self) -> str:
        return "<CredentialBox>"

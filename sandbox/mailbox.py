"""The sandbox's mailbox: a real SMTP server on loopback that keeps every message it is given,
shown at /sandbox/mail beside the X timelines and Facebook Pages.

With the sandbox on and no SMTP server configured, `megafon run` points Megafon's own mail path
(core.mail: the outbox, claims, retries, attachments) at this server, so a new user sees the
whole loop — an alert, a failure notice, a password reset, the board's monthly report — without
a mail server of their own. Nothing leaves the machine.
"""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

MAX_KEPT = 500  # the oldest go first: a sandbox, not an archive
MAX_BYTES = 25_000_000


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Letter:
    """One message as received: envelope, headers, the readable text, the attachments."""

    id: int
    received_at: datetime
    mail_from: str
    to: tuple[str, ...]
    subject: str
    text: str
    attachments: tuple[Attachment, ...]
    raw: bytes


def read_letter(ident: int, mail_from: str, to: list[str], raw: bytes) -> Letter:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    attachments = tuple(
        Attachment(part.get_filename() or "attachment", part.get_content_type(),
                   part.get_payload(decode=True) or b"")
        for part in message.iter_attachments())
    return Letter(ident, datetime.now(UTC), mail_from, tuple(to), str(message["Subject"] or ""),
                  text, attachments, raw)


class Mailbox:
    """The letters received, newest first; safe across threads."""

    def __init__(self) -> None:
        self._letters: list[Letter] = []
        self._next = 1
        self._lock = threading.Lock()

    def add(self, mail_from: str, to: list[str], raw: bytes) -> Letter:
        with self._lock:
            letter = read_letter(self._next, mail_from, to, raw)
            self._next += 1
            self._letters.insert(0, letter)
            del self._letters[MAX_KEPT:]
            return letter

    def letters(self) -> list[Letter]:
        with self._lock:
            return list(self._letters)

    def get(self, ident: int) -> Letter | None:
        with self._lock:
            return next((letter for letter in self._letters if letter.id == ident), None)


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.mailbox.add(envelope.mail_from, list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    """A port nobody listens on now (aiosmtpd's controller checks its server by connecting to
    the port it was given, so it needs a real number, not 0)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MailServer:
    """aiosmtpd on a loopback port (0: a free one) delivering into a Mailbox."""

    def __init__(self, mailbox: Mailbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = mailbox
        self.host = host
        self._port = port or _free_port(host)
        self._controller = Controller(_Handler(mailbox), hostname=host, port=self._port,
                                      data_size_limit=MAX_BYTES)

    def start(self) -> MailServer:
        self._controller.start()
        return self

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """What MEGAFON_SMTP_URL would say to use it."""
        return f"smtp://{self.host}:{self.port}"

    def stop(self) -> None:
        self._controller.stop()

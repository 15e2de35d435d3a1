"""A real SMTP server for tests: aiosmtpd in its own process, storing what it receives on disk.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c tests.smtp.SpoolHandler DIR

Each accepted message becomes one JSON file (envelope plus the raw bytes, base64) in DIR, written
under a temporary name and renamed, so a reader never sees half a message. Import the fixture
into a conftest: `from tests.smtp import smtp_server  # noqa: F401`.
"""

from __future__ import annotations

import base64
import email
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


class SpoolHandler:
    """aiosmtpd handler: every message to one JSON file in a folder."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> SpoolHandler:
        if len(args) != 1:
            parser.error("SpoolHandler needs the folder to write messages to")
        return cls(args[0])

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.startswith("refuse-"):  # lets tests see a permanent refusal
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "data": base64.b64encode(content).decode("ascii")}
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{name}.tmp"
        partial.write_text(json.dumps(record))
        os.replace(partial, self.folder / f"{name}.json")
        return "250 Message accepted for delivery"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The decoded text (of a multipart message, its plain-text part), with the wire's CRLF
        line ends as plain newlines."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no plain-text part"
        return part.get_content().replace("\r\n", "\n")

    @property
    def attachments(self) -> dict[str, tuple[str, bytes]]:
        """The attached files by name: their MIME type and decoded bytes."""
        return {part.get_filename(): (part.get_content_type(), part.get_content())
                for part in self.message.iter_attachments()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """The running server process and what it has received."""

    def __init__(self, folder: Path, log: Path) -> None:
        self.folder = folder
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                 "-c", "tests.smtp.SpoolHandler", str(self.folder)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SMTP server exited: {self.log.read_text()}")
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=2) as smtp:
                    smtp.noop()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("SMTP server did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def messages(self, to: str | None = None) -> list[Received]:
        """Everything received so far (oldest first), or only what was addressed to `to`."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            record = json.loads(path.read_text())
            item = Received(record["mail_from"], record["rcpt_tos"],
                            base64.b64decode(record["data"]))
            if to is None or to in item.rcpt_tos:
                found.append(item)
        return found

    def clear(self) -> None:
        for path in self.folder.glob("*.json"):
            path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """One SMTP server process per test worker; tests address unique recipients or clear it."""
    base = tmp_path_factory.mktemp("smtp")
    server = SmtpServer(base / "spool", base / "server.log")
    server.folder.mkdir()
    server.start()
    yield server
    server.stop()

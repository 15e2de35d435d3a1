"""`megafon run` as a new user starts it: web, scheduler, the sandbox of X and Facebook and, with
no mail server set, the sandbox's mailbox, to which Megafon's own mail then goes."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import requests
from sqlalchemy import select

from core.db import Database
from core.i18n import N_
from core.notifications import notify
from core.users import Role, User
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


class Output:
    """What a process prints, line by line, read by a thread of its own. (Waiting with select()
    on the pipe and then reading a line misses lines that arrived together: the first readline
    takes them all into Python's buffer, and select() then waits for more that never come.)"""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip())
        self.lines.put(None)  # the process closed its output: it ended

    def until(self, marker: str, deadline: float) -> list[str]:
        """The lines up to the one containing `marker`."""
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if marker in line:
                return seen
        raise AssertionError("megafon run did not get there:\n" + "\n".join(seen))

    def next_line(self, seconds: float) -> None:
        """Wait up to `seconds` for the process to print something (between two looks)."""
        with contextlib.suppress(queue.Empty):
            self.lines.get(timeout=seconds)


def test_run_without_a_mail_server_sends_mail_to_the_sandbox(tmp_path: Path):
    port, sandbox_port = free_port(), free_port()
    env = {**os.environ, "MEGAFON_INSTANCE_PATH": str(tmp_path / "instance"),
           "MEGAFON_DATABASE_URL": f"sqlite:///{tmp_path / 'megafon.db'}",
           "MEGAFON_PORT": str(port), "MEGAFON_SANDBOX_PORT": str(sandbox_port),
           "MEGAFON_SMTP_URL": "", "MEGAFON_DEMO_DATA": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("MEGAFON_SANDBOX_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = Output(process)
        lines = output.until("First login", time.monotonic() + 120)
        mail_line = next(line for line in lines if "E-mail it sends" in line)
        mailbox_url = mail_line.split(": ", 1)[1].strip()
        assert mailbox_url == f"http://127.0.0.1:{sandbox_port}/sandbox/mail"
        assert requests.get(mailbox_url, timeout=10).status_code == 200
        # Something Megafon tells its admin by e-mail: the scheduler's mail job sends it
        # through SMTP to the sandbox, which shows it.
        database = Database(env["MEGAFON_DATABASE_URL"])
        with database.session() as session:
            admin = session.scalar(select(User).where(User.role == Role.ADMIN))
            notify(session, [admin], "delivery_failed", N_("Test: %(account)s"),
                   N_("The post to %(account)s did not go out."), "/", account="VP Värmland")
        database.dispose()
        deadline = time.monotonic() + 60
        letters: list[dict[str, object]] = []
        while not letters and time.monotonic() < deadline:  # the job runs every 5 s
            letters = requests.get(f"http://127.0.0.1:{sandbox_port}/sandbox/api/mail",
                                   timeout=10).json()
            if not letters:
                output.next_line(1.0)
        assert letters and letters[0]["to"] == ["admin@example.org"]
        assert "VP Värmland" in str(letters[0]["subject"]) + str(letters[0]["text"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

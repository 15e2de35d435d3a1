"""`megafon run` as a new user starts it: web, scheduler, the sandbox of X and Facebook and, with
no mail server set, the sandbox's mailbox, to which Megafon's own mail then goes."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import select

from core.db import Database
from core.i18n import N_
from core.notifications import notify
from core.users import Role, User
from tests.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def _lines_until(process: subprocess.Popen[str], marker: str, deadline: float) -> list[str]:
    """The lines `megafon run` prints, up to the one containing `marker` (or its exit)."""
    selector = selectors.DefaultSelector()
    assert process.stdout is not None
    selector.register(process.stdout, selectors.EVENT_READ)
    seen: list[str] = []
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip())
        if marker in line:
            return seen
    raise AssertionError("megafon run did not get there:\n" + "\n".join(seen))


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
        lines = _lines_until(process, "First login", time.monotonic() + 120)
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
                _lines_until_quiet(process)
        assert letters and letters[0]["to"] == ["admin@example.org"]
        assert "VP Värmland" in str(letters[0]["subject"]) + str(letters[0]["text"])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _lines_until_quiet(process: subprocess.Popen[str]) -> None:
    """Wait up to a second for the process to print (what polling waits on between looks)."""
    selector = selectors.DefaultSelector()
    assert process.stdout is not None
    selector.register(process.stdout, selectors.EVENT_READ)
    if selector.select(timeout=1.0):
        process.stdout.readline()

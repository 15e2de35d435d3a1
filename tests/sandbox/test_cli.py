"""`megafon sandbox` commands: JSON out, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner

from cli.sandbox import sandbox as sandbox_group
from sandbox.server import SandboxServer


def test_add_account_to_a_state_file(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    result = CliRunner().invoke(sandbox_group, ["add-account", "--platform", "x", "--name",
                                                "Cli User", "--state", state])
    assert result.exit_code == 0, result.output
    creds = json.loads(result.stdout)
    assert creds["platform"] == "x" and creds["access_token"].startswith(creds["user_id"] + "-")
    with SandboxServer(state) as server:  # the server reads the account the CLI wrote
        assert server.state.account(creds["user_id"]).username == "CliUser"


def test_add_account_through_a_running_sandbox(sandbox: SandboxServer) -> None:
    result = CliRunner().invoke(sandbox_group, ["add-account", "--platform", "facebook",
                                                "--name", "Cli Page", "--url", sandbox.url])
    assert result.exit_code == 0, result.output
    assert sandbox.state.account(json.loads(result.stdout)["page_id"]).name == "Cli Page"


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    cases = [["--platform", "myspace", "--name", "a", "--state", str(tmp_path / "s.db")],
             ["--platform", "x", "--name", "a", "--state", str(garbage)],
             ["--platform", "x", "--name", "a", "--state", str(tmp_path)]]
    for args in cases:
        result = CliRunner().invoke(sandbox_group, ["add-account", *args])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_serve_prints_its_url(tmp_path: Path) -> None:
    code = "from cli.sandbox import sandbox; sandbox()"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", "0", "--state",
                             str(tmp_path / "served.db")], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.split()[3]
        assert requests.get(f"{url}/sandbox/").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)

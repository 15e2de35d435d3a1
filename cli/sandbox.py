"""`megafon sandbox`: run the X/Facebook sandbox and make accounts in it from a shell.

Bad input ends with one line on stderr and exit code 2, so scripts can tell it from a crash.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import NoReturn

import click
import requests

from sandbox.state import PLATFORMS, SandboxState, StateError

STATE_ENV = "MEGAFON_SANDBOX_STATE"


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def _check_state_path(path: str) -> None:
    """Refuse a path SQLite would fail on with a confusing message."""
    if os.path.isdir(path):
        fail(f"state file {path!r} is a directory")
    if os.path.exists(path) and not os.access(path, os.R_OK | os.W_OK):
        fail(f"state file {path!r} is not readable and writable")


@click.group()
def sandbox() -> None:
    """The loopback imitation of X and Facebook used by tests, benchmarks and demos."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5001, show_default=True)
@click.option("--state", "state_path", envvar=STATE_ENV, default=None,
              help=f"SQLite state file (default: ${STATE_ENV}; else a temporary one)")
def serve(host: str, port: int, state_path: str | None) -> None:
    """Serve the sandbox in the foreground until Ctrl-C."""
    from sandbox.server import SandboxServer

    if state_path:
        _check_state_path(state_path)
    try:
        server = SandboxServer(state_path, host=host, port=port)
    except StateError as exc:
        fail(str(exc))
    server.bind()
    server_url = server.url
    click.echo(f"sandbox listening on {server_url}  (pages: {server_url}/sandbox/)")
    if not state_path:
        click.echo("state is temporary: give --state FILE to keep it", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.state.close()


@sandbox.command("add-account")
@click.option("--platform", required=True, help="x or facebook")
@click.option("--name", required=True, help="Account (X) or Page (Facebook) name")
@click.option("--state", "state_path", envvar=STATE_ENV, default=None,
              help="Write to this state file directly")
@click.option("--url", default=None, help="Ask the running sandbox at this URL instead")
def add_account(platform: str, name: str, state_path: str | None, url: str | None) -> None:
    """Create an account (or fetch the one of that name) and print its credentials as JSON."""
    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        fail(f"unknown platform {platform!r}; use one of: {', '.join(PLATFORMS)}")
    if not name.strip():
        fail("--name must not be empty")
    if url:
        creds = _add_remote(url, platform, name)
    elif state_path:
        _check_state_path(state_path)
        try:
            state = SandboxState(state_path)
        except StateError as exc:
            fail(str(exc))
        try:
            creds = state.add_account(platform, name)
        except sqlite3.Error as exc:
            fail(f"cannot write sandbox state file {state_path!r}: {exc}")
        finally:
            state.close()
    else:
        fail(f"give --state FILE (or ${STATE_ENV}) or --url URL of a running sandbox")
    click.echo(json.dumps(creds, indent=2))


def _add_remote(url: str, platform: str, name: str) -> dict[str, str]:
    try:
        response = requests.post(f"{url.rstrip('/')}/sandbox/api/accounts",
                                 json={"platform": platform, "name": name}, timeout=10)
    except requests.RequestException as exc:
        fail(f"the sandbox at {url} did not answer: {type(exc).__name__}", code=1)
    if response.status_code != 201:
        try:
            reason = response.json().get("error", response.reason)
        except ValueError:
            reason = response.reason
        fail(f"the sandbox at {url} refused: {reason}")
    return response.json()

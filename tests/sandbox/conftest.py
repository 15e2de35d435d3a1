"""Fixtures for the sandbox tests: one real server per module, fresh accounts per test.

Every client is the unmodified tweepy / facebook-sdk one with only its session swapped.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import facebook
import pytest
import requests
import tweepy

from publisher.adapters.redirect import RewriteSession
from sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with SandboxServer(str(tmp_path_factory.mktemp("sandbox") / "state.db")) as server:
        yield server


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def x_client_for(url: str, creds: dict[str, str], **overrides: str) -> tweepy.Client:
    keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret",
            "bearer_token")
    client = tweepy.Client(**{**{k: creds[k] for k in keys}, **overrides})
    client.session = RewriteSession(url)
    return client


def graph_for(url: str, token: str, version: str | None = "v21.0") -> facebook.GraphAPI:
    graph = facebook.GraphAPI(access_token=token, session=RewriteSession(url))
    if version:
        graph.version = version  # after construction: facebook-sdk refuses versions above 3.1
    return graph


@pytest.fixture
def x_creds(sandbox: SandboxServer) -> dict[str, str]:
    return sandbox.state.add_account("x", unique("X"))


@pytest.fixture
def x_client(sandbox: SandboxServer, x_creds: dict[str, str]) -> tweepy.Client:
    return x_client_for(sandbox.url, x_creds)


@pytest.fixture
def fb_creds(sandbox: SandboxServer) -> dict[str, str]:
    return sandbox.state.add_account("facebook", unique("Page "))


@pytest.fixture
def graph(sandbox: SandboxServer, fb_creds: dict[str, str]) -> facebook.GraphAPI:
    return graph_for(sandbox.url, fb_creds["page_access_token"])


@pytest.fixture
def set_faults(sandbox: SandboxServer) -> Callable[..., dict[str, Any]]:
    """Set an account's fault profile through the control API, as a bench would."""

    def set_(key: str, **faults: Any) -> dict[str, Any]:
        response = requests.post(f"{sandbox.url}/sandbox/api/accounts/{key}/faults",
                                 json=faults, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    return set_


@pytest.fixture
def stored(sandbox: SandboxServer) -> Callable[[str], list[dict[str, Any]]]:
    def posts(key: str) -> list[dict[str, Any]]:
        return requests.get(f"{sandbox.url}/sandbox/api/accounts/{key}/posts", timeout=5).json()

    return posts


def png(width: int = 3, height: int = 2) -> bytes:
    """A real, tiny PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                                            0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "pixel.png"
    path.write_bytes(png())
    return path

"""Run the sandbox on a loopback port in a background thread (tests, benches) or the foreground.

Served by waitress, which keeps HTTP/1.1 connections alive as the real platforms do (werkzeug's
development server closes every connection, so each call would pay for a new TCP connection and
a new server thread). Its worker threads are plentiful because the sandbox's simulated latency
sleeps in them.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from functools import partial
from types import TracebackType
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from sandbox.app import create_app
from sandbox.faults import DROP_CONNECTION
from sandbox.mailbox import Mailbox, MailServer
from sandbox.state import SandboxState

THREADS = 64  # calls that may sleep in simulated latency at once
POLL_SECONDS = 0.5  # how soon the serving loop notices stop()

# One line per request would drown a benchmark; waitress's queue-depth warnings too.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class SandboxServer:
    """One SandboxState behind a waitress server; port 0 picks a free port."""

    def __init__(self, state_path: str | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.state = SandboxState(state_path)
        self.mailbox = Mailbox()
        self.mail_server: MailServer | None = None
        self.host, self.port = host, port
        self.app: Flask = create_app(self.state, self.mailbox)
        self._map: dict[int, Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closing = threading.Lock()  # the loop's closing and stop()'s wake-up never overlap

    @property
    def url(self) -> str:
        """The base URL to hand to RewriteSession, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._server.effective_port}"

    def bind(self) -> SandboxServer:
        """Open the listening socket (once), so `url` is known before serving starts."""
        if self._server is None:
            self._server = create_server(
                self._wsgi, map=self._map, host=self.host, port=self.port, threads=THREADS,
                connection_limit=1000, channel_timeout=60, asyncore_use_poll=True,
                ident="megafon-sandbox")
        return self

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The Flask app, given a way to drop this request's connection (see faults)."""
        environ[DROP_CONNECTION] = partial(self._drop, environ.get("REMOTE_PORT"))
        return self.app(environ, start_response)

    def _drop(self, remote_port: str | None) -> None:
        """Shut the client's socket down; the serving loop then closes the connection."""
        for channel in list(self._map.values()):
            addr = getattr(channel, "addr", None)
            if isinstance(addr, tuple) and len(addr) >= 2 and str(addr[1]) == remote_port \
                    and channel is not self._server:
                with contextlib.suppress(OSError):
                    channel.socket.shutdown(socket.SHUT_RDWR)
                return

    def start(self) -> SandboxServer:
        self.bind()
        self._thread = threading.Thread(target=self.serve_forever, name="sandbox-server",
                                        daemon=True)
        self._thread.start()
        return self

    def start_mail(self, port: int = 0) -> MailServer:
        """Also receive e-mail: an SMTP server on loopback whose messages /sandbox/mail shows."""
        if self.mail_server is None:
            self.mail_server = MailServer(self.mailbox, self.host, port).start()
        return self.mail_server

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() (or Ctrl-C in the CLI's `serve`)."""
        self.bind()
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=POLL_SECONDS, map=self._map, use_poll=True, count=1)
        finally:
            self._close_server()

    def _close_server(self) -> None:
        """Close the listening socket and every open connection, from the serving thread."""
        with self._closing:
            for channel in list(self._map.values()):
                channel.close()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def stop(self) -> None:
        if self.mail_server is not None:
            self.mail_server.stop()
            self.mail_server = None
        if self._server is not None and self._thread is not None:
            self._stopping.set()
            with self._closing:
                # Wake the loop now rather than at the next poll, unless it has already seen the
                # flag and closed its trigger (whose descriptor number may belong to a new file).
                if not self._server.trigger._closed:
                    self._server.pull_trigger()
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""Run the sandbox on a loopback port in a background thread (tests, benches) or the foreground."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import create_app
from sandbox.state import SandboxState


class QuietHandler(WSGIRequestHandler):
    """No access log: benchmarks send thousands of requests. HTTP/1.1 keeps connections alive,
    as the real platforms do."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SandboxServer:
    """A threaded werkzeug server around one SandboxState; port 0 picks a free port."""

    def __init__(self, state_path: str | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.state = SandboxState(state_path)
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to hand to RewriteSession, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def bind(self) -> BaseWSGIServer:
        """Open the listening socket (once), so `url` is known before serving starts."""
        if self._server is None:
            self._server = make_server(self.host, self.port, create_app(self.state),
                                       threaded=True, request_handler=QuietHandler)
        return self._server

    def start(self) -> SandboxServer:
        server = self.bind()
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-server",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI's `serve`)."""
        server = self.bind()
        try:
            server.serve_forever()
        finally:
            server.server_close()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self.state.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""The sandbox server keeps connections alive like the real platforms and stops cleanly."""

import http.client

import requests

from sandbox.server import SandboxServer


def test_calls_on_one_connection_keep_it_open(sandbox: SandboxServer):
    host, port = sandbox.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        sockets = []
        for _ in range(3):
            connection.request("GET", "/sandbox/api/accounts")
            response = connection.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
            sockets.append(connection.sock)
        assert sockets[0] is not None and sockets.count(sockets[0]) == 3
    finally:
        connection.close()


def test_stop_closes_the_port_and_open_connections(tmp_path):
    server = SandboxServer(str(tmp_path / "state.db")).start()
    url = server.url
    with requests.Session() as session:
        assert session.get(f"{url}/sandbox/api/accounts", timeout=5).ok
        server.stop()
        try:
            session.get(f"{url}/sandbox/api/accounts", timeout=5)
        except requests.ConnectionError:
            pass
        else:
            raise AssertionError("the stopped sandbox still answered")


def test_stop_after_the_loop_has_already_closed_does_not_fail(tmp_path):
    """The loop can see the stop flag and close its trigger before stop() would pull it."""
    server = SandboxServer(str(tmp_path / "state.db")).start()
    thread = server._thread
    assert thread is not None
    server._stopping.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and server._server.trigger._closed
    server.stop()

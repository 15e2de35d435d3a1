"""Fetching feeds and pages from the open web, safely.

One `SafeFetcher` per process (it keeps connections alive and is safe across threads):

- SSRF: every connection resolves the host itself, refuses private, loopback, link-local, CGNAT,
  NAT64, multicast and reserved addresses (unless the host, the address or its network is on the
  admin's allow-list), and connects to exactly the address it checked — so a DNS answer cannot
  change between the check and the connection. Redirects are followed here, hop by hop (at most
  five), so every hop goes through the same check. Proxies from the environment are ignored.
- Conditional GET (If-None-Match / If-Modified-Since): a 304 comes back as `not_modified`.
- gzip and deflate are asked for and decoded here, bounded: the size cap counts decoded bytes
  while streaming, so a small compressed bomb stops at the cap.
- One time limit for the whole fetch, redirects included.

Failures raise `FetchError` with a plain English sentence (a msgid, see core.i18n) for the
source's history and state.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from core.i18n import N_

DEFAULT_USER_AGENT = "Megafon-monitor/1.0 (+media monitoring; feeds and news pages)"
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
          "text/html;q=0.8, */*;q=0.5")
ADDRESS = ipaddress.IPv4Address | ipaddress.IPv6Address
NETWORK = ipaddress.IPv4Network | ipaddress.IPv6Network
# Not caught by `is_global` in every Python version, or hiding an IPv4 address inside IPv6.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class FetchError(Exception):
    """A fetch (or a source poll) failed; `message` says why in a sentence fit for a person.

    `msgid` is the untranslated sentence with %(name)s placeholders and `params` its values, so
    the web layer can translate it; `retry_after` (seconds) is the server's own wish, if any.
    """

    def __init__(self, kind: str, msgid: str, *, retry_after: float | None = None,
                 **params: object) -> None:
        self.kind, self.msgid, self.params = kind, msgid, params
        self.message = msgid % params if params else msgid
        self.retry_after = retry_after
        super().__init__(self.message)

    def as_message(self) -> dict[str, Any]:
        """The message as stored for later readers: its msgid and plain JSON parameters, which
        the web translates into the reader's language (web.filters.stored_message)."""
        params = {name: value if isinstance(value, int | float | str) else str(value)
                  for name, value in self.params.items()}
        return {"msgid": self.msgid, "params": params}


@dataclass(frozen=True)
class FetchResult:
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    final_url: str
    not_modified: bool
    content_type: str


class Blocked(Exception):
    """A connection was refused by the address policy (raised inside the transport)."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to the refused address {address}")
        self.host, self.address = host, address


class Unresolvable(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


def _embedded_ipv4(ip: ADDRESS) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: ADDRESS) -> bool:
    """True for an address on the public internet (never private, loopback, link-local, CGNAT,
    NAT64/6to4/Teredo wrappers, multicast, reserved or unspecified)."""
    if _embedded_ipv4(ip) is not None:
        return False  # an IPv4 address smuggled in IPv6: refuse the wrapper outright
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_loopback \
            or ip.is_link_local or ip.is_private:
        return False
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return False
    return ip.is_global


def _plain(ip: ADDRESS) -> ADDRESS:
    """An IPv4-mapped IPv6 address as the IPv4 address it is (::ffff:127.0.0.1 → 127.0.0.1)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


class AddressPolicy:
    """Which addresses may be connected to: public ones, and whatever the allow-list names.

    Entries are host names (exact, case-insensitive), IP addresses or networks in CIDR form.
    `endpoints` are (host, port) pairs allowed on that port only — the sandbox: its demo feeds
    are on loopback, but the rest of the machine (the app itself, the database, other
    services) must stay out of reach. An endpoint is compared by the addresses it resolves to
    and the port actually connected to, so every spelling of an address (127.1, 2130706433,
    0x7f.1, ::ffff:127.0.0.1) meets the same rule, on every redirect hop.
    """

    def __init__(self, allow: Iterable[str] = (),
                 endpoints: Iterable[tuple[str, int]] = ()) -> None:
        self.hosts: set[str] = set()
        self.networks: list[NETWORK] = []
        self.endpoints = [(host.strip("[]"), int(port)) for host, port in endpoints]
        for entry in allow:
            entry = entry.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.rstrip("."))

    def permits(self, host: str, ip: ADDRESS) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        if any(ip.version == net.version and ip in net for net in self.networks):
            return True
        return is_public(ip)

    def _endpoint_addresses(self, port: int) -> set[ADDRESS]:
        """The addresses of the endpoints allowed on this port (resolved now, as the target)."""
        found: set[ADDRESS] = set()
        for host, allowed_port in self.endpoints:
            if allowed_port != port:
                continue
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError):
                continue
            found |= {_plain(ipaddress.ip_address(str(info[4][0]).partition("%")[0]))
                      for info in infos}
        return found

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of `host` this policy lets us connect to, in resolver order."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise Unresolvable(host) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        endpoint = self._endpoint_addresses(port)
        allowed = [a for a in addresses if self.permits(host, ipaddress.ip_address(a))
                   or _plain(ipaddress.ip_address(a.partition("%")[0])) in endpoint]
        if not allowed:
            raise Blocked(host, addresses[0] if addresses else host)
        return allowed


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, but every TCP connection goes to an address the policy
    checked in the same breath (the address is pinned: no second DNS lookup)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.policy.resolve(host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout=timeout,
                                              local_address=local_address,
                                              socket_options=socket_options)
            except httpcore.ConnectError as exc:  # try the next checked address
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.TimeoutException, httpx.TimeoutException),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except httpcore.UnsupportedProtocol as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc
    except Exception as exc:
        for core_kind, httpx_kind in _HTTPCORE_ERRORS:
            if isinstance(exc, core_kind):
                raise httpx_kind(str(exc)) from exc
        raise


class _Stream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport on an httpcore pool whose connections pass the address policy."""

    def __init__(self, policy: AddressPolicy, max_connections: int = 100) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections, max_keepalive_connections=max_connections,
            keepalive_expiry=30.0, network_backend=_GuardedBackend(policy))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,
            extensions=request.extensions)
        with _httpx_errors():
            response = self._pool.handle_request(core_request)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_Stream(response.stream), extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


class _Decoder:
    """gzip / deflate / identity, never producing much more than the caller still accepts."""

    def __init__(self, encoding: str) -> None:
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise FetchError("encoding", N_("The server used an encoding Megafon cannot read "
                                            "(%(encoding)s)."), encoding=encoding)
        self.encoding = encoding
        self._z: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decoded bytes of `data`, in pieces of at most `room` + 1 bytes (one more than the
        caller accepts, so it can tell "too large" without decompressing further)."""
        if not self.encoding or self.encoding == "identity":
            yield data
            return
        if self._z is None:  # deflate: zlib-wrapped as the RFC says, or raw as IIS sends it
            wrapped = len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        limit = max(room, 0) + 1
        try:
            while True:
                out = self._z.decompress(data, limit)
                data = self._z.unconsumed_tail
                if out:
                    yield out
                if self._z.eof or (not data and len(out) < limit):
                    return
        except zlib.error:
            raise FetchError("encoding", N_("The compressed answer is damaged.")) from None


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g}"


class SafeFetcher:
    """GET a URL under the SSRF policy, a size cap and one time limit (see the module doc)."""

    def __init__(self, allow: Iterable[str] = (), timeout: float = 10, max_bytes: int = 5_000_000,
                 user_agent: str = DEFAULT_USER_AGENT, max_connections: int = 100,
                 endpoints: Iterable[tuple[str, int]] = ()) -> None:
        self.policy = AddressPolicy(allow, endpoints)
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self.client = httpx.Client(
            transport=GuardedTransport(self.policy, max_connections), trust_env=False,
            follow_redirects=False, timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": user_agent, "Accept": ACCEPT,
                     "Accept-Encoding": "gzip, deflate"})
        # One client serves every source: no cookie may carry over from one to another.
        self.client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, etag: str | None = None,
              last_modified: str | None = None) -> FetchResult:
        deadline = time.monotonic() + self.timeout
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            _check_scheme(current, hop)
            try:
                result = self._get(current, headers, deadline, hop)
            except httpx.TimeoutException:
                raise self._timed_out() from None
            except httpx.HTTPError as exc:
                raise _network_error(exc) from None
            if isinstance(result, str):
                current = result
                continue
            return result
        raise FetchError("redirects", N_("Too many redirects (more than %(n)s)."),
                         n=MAX_REDIRECTS)

    def _timed_out(self) -> FetchError:
        return FetchError("timeout", N_("Timed out after %(seconds)s s."),
                          seconds=f"{self.timeout:g}")

    def _get(self, url: str, headers: dict[str, str], deadline: float,
             hop: int) -> FetchResult | str:
        """One hop: a FetchResult, or the URL a redirect points to."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        try:
            request = self.client.build_request("GET", url, headers=headers,
                                                timeout=httpx.Timeout(left))
            response = self.client.send(request, stream=True)
        except Blocked as exc:
            raise _blocked(exc, hop) from None
        except Unresolvable as exc:
            raise FetchError("dns", N_("The host name could not be found (%(host)s)."),
                             host=exc.host) from None
        except (httpx.InvalidURL, ValueError) as exc:  # e.g. an octal host, 0177.0.0.1
            raise unreadable_address(exc) from None
        try:
            status = response.status_code
            if status in REDIRECTS:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError("http", N_("The server answered %(status)s (a redirect) "
                                                "without saying where to."), status=status)
                return urljoin(url, location.strip())
            if status == 304:
                return FetchResult(304, b"", response.headers.get("ETag") or headers.get(
                    "If-None-Match"), response.headers.get("Last-Modified") or headers.get(
                    "If-Modified-Since"), url, True, response.headers.get("Content-Type", ""))
            if status != 200:
                raise _status_error(response)
            body = self._read(response, deadline)
            if not body.strip():
                raise FetchError("empty", N_("The server sent an empty answer."))
            return FetchResult(status, body, response.headers.get("ETag"),
                               response.headers.get("Last-Modified"), url, False,
                               response.headers.get("Content-Type", ""))
        finally:
            response.close()

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        too_large = FetchError("too_large", N_("Larger than %(mb)s MB."),
                               mb=_megabytes(self.max_bytes))
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        length = response.headers.get("Content-Length", "")
        if not encoding and length.isdigit() and int(length) > self.max_bytes:
            raise too_large
        decoder = _Decoder(encoding)
        chunks: list[bytes] = []
        size = 0
        for raw in response.iter_raw():
            for chunk in decoder.feed(raw, self.max_bytes - size):
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
            if time.monotonic() > deadline:
                raise self._timed_out()
        return b"".join(chunks)


def _check_scheme(url: str, hop: int) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        if hop:
            raise FetchError("blocked", N_("Blocked: redirects to an address that is not http "
                                           "or https (%(url)s)."), url=url[:200])
        raise FetchError("blocked", N_("Only http and https addresses can be fetched."))


def _blocked(exc: Blocked, hop: int) -> FetchError:
    if hop:
        return FetchError("blocked", N_("Blocked: redirects to a private address (%(address)s)."),
                          address=exc.address)
    if exc.host.strip("[]") == exc.address:
        return FetchError("blocked", N_("Blocked: %(address)s is a private address; an "
                                        "administrator can allow it with MEGAFON_FETCH_ALLOW."),
                          address=exc.address)
    return FetchError("blocked", N_("Blocked: %(host)s resolves to a private address "
                                    "(%(address)s); an administrator can allow it with "
                                    "MEGAFON_FETCH_ALLOW."), host=exc.host, address=exc.address)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After", "").strip()
    return float(raw) if raw.isdigit() else None


def _status_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    if status in (401, 403):
        return FetchError("http", N_("The server refused access (%(status)s)."), status=status)
    if status == 404:
        return FetchError("http", N_("Not found (404): nothing is at this address any more."))
    if status == 410:
        return FetchError("http", N_("Gone (410): the server says this was removed for good."))
    if status == 429:
        return FetchError("http", N_("Too many requests (429): the server asks us to slow "
                                     "down."), retry_after=_retry_after(response))
    if status >= 500:
        return FetchError("http", N_("The server answered %(status)s (server error)."),
                          status=status, retry_after=_retry_after(response))
    return FetchError("http", N_("The server answered %(status)s."), status=status)


def unreadable_address(exc: Exception) -> FetchError:
    return FetchError("url", N_("The web address cannot be read (%(reason)s)."),
                      reason=str(exc)[:200])


def _network_error(exc: httpx.HTTPError) -> FetchError:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
        return FetchError("tls", N_("The secure connection failed (%(reason)s)."),
                          reason=text[:200])
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect", N_("Could not connect (%(reason)s)."), reason=text[:200])
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError("protocol", N_("The server broke off the answer (%(reason)s)."),
                          reason=text[:200])
    return FetchError("network", N_("Network error (%(reason)s)."), reason=text[:200])

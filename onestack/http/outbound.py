"""Fetching a URL a user named, from the cloud's side, without letting the user turn the cloud on itself.

Image's ``web-download`` and Orchestration's ``template_url`` both take a URL from a request and fetch it
from inside the cloud: a classic server-side request forgery.  A URI is checked against filters (schemes,
hosts, ports), then its host is resolved and every address checked: loopback, link-local
(169.254.169.254, the metadata service), unspecified, multicast and reserved addresses are refused unless
the operator allowed their network, or the URI lies under one of the caller's ``trusted`` prefixes (the
cloud's own public object store, which is itself on loopback in a one-host cloud).  The connection goes
to the address that was checked, never to a second resolution of the name (DNS rebinding), and redirects
are followed by hand so that each hop passes the same checks.
"""

from __future__ import annotations

import http.client
import ipaddress
import posixpath
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

from onestack.http.errors import BadRequest

CHUNK = 1 << 20
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}


class Filters(Protocol):
    """What an operator allows (Glance's ``[import_filtering_opts]`` shape): an allowed list, when not
    empty, is the only thing allowed; otherwise the disallowed list is refused."""

    allowed_schemes: list[str]
    disallowed_schemes: list[str]
    allowed_hosts: list[str]
    disallowed_hosts: list[str]
    allowed_ports: list[int]
    disallowed_ports: list[int]
    allowed_networks: list[str]


class Refused(Exception):
    """The URI does not pass the filters; ``why`` says which (each caller words its own fault)."""

    def __init__(self, why: str):
        self.why = why
        super().__init__(why)


class Failed(BadRequest):
    """The URI passed the filters but could not be fetched (connection, HTTP status, size)."""


class TooLarge(Failed):
    """The body is longer than the caller's limit."""


def _listed(value, allowed: list, disallowed: list) -> bool:
    return value in allowed if allowed else value not in disallowed


def _dangerous(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
            or address.is_reserved)


def under(uri: str, prefix: str) -> bool:
    """Whether ``uri`` names something under ``prefix`` (same scheme, host and port; a path below it with
    no ``..`` that would climb out of it, percent-encoded or not)."""
    try:
        a, b = urlsplit(uri), urlsplit(prefix)
        ports = (a.port or DEFAULT_PORTS.get(a.scheme.lower())), (b.port or DEFAULT_PORTS.get(b.scheme.lower()))
    except ValueError:
        return False
    if (a.scheme.lower(), (a.hostname or "").lower(), ports[0]) != \
            (b.scheme.lower(), (b.hostname or "").lower(), ports[1]):
        return False
    path = unquote(a.path)
    if "\\" in path or any(seg in (".", "..") for seg in path.split("/")):
        return False
    base = b.path.rstrip("/") + "/"
    return posixpath.normpath(path).startswith(base) or path.startswith(base)


def check(uri: str, rules: Filters, trusted: Sequence[str] = ()) -> tuple[str, str, int, str]:
    """Refuse the URI (``Refused``) unless every filter lets it through; return scheme, host, port and the
    address to connect to.  A URI under a ``trusted`` prefix may reach any address."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise Refused("not a valid URI") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not _listed(scheme, rules.allowed_schemes, rules.disallowed_schemes):
        raise Refused(f"scheme {scheme!r} is not allowed")
    inside = any(under(uri, prefix) for prefix in trusted)
    if not host or not (inside or _listed(host, rules.allowed_hosts, rules.disallowed_hosts)):
        raise Refused(f"host {host!r} is not allowed")
    port = port or DEFAULT_PORTS[scheme]
    if not (inside or _listed(port, rules.allowed_ports, rules.disallowed_ports)):
        raise Refused(f"port {port} is not allowed")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"host {host!r} does not resolve") from None
    allowed_networks = [ipaddress.ip_network(n, strict=False) for n in rules.allowed_networks]
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        if inside:
            break
        if str(address) in rules.disallowed_hosts:
            raise Refused(f"address {address} is not allowed")
        if _dangerous(address) and not any(address in net for net in allowed_networks):
            raise Refused(f"address {address} is not reachable from the cloud's side")
    return scheme, host, port, str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a given address, with the certificate still checked against the URI's host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self.pinned = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = self.pinned = socket.create_connection((self._address, self.port), self.timeout)


def _open(uri: str, rules: Filters, timeout: float, agent: str, trusted: Sequence[str]
          ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """The connection and the 200 response for ``uri``, redirects followed (each hop checked)."""
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port, address = check(uri, rules, trusted)
        kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = kind(address, host, port, timeout)
        parts = urlsplit(uri)
        try:
            conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                         headers={"User-Agent": agent})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise Failed(f"Could not download {uri}: {exc}") from None
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            uri = urljoin(uri, resp.getheader("Location"))
            conn.close()
            continue
        if resp.status != 200:
            conn.close()
            raise Failed(f"Could not download {uri}: HTTP {resp.status}")
        return conn, resp
    raise Failed(f"Too many redirects downloading {uri}")


def download(uri: str, rules: Filters, timeout: float, *, agent: str, trusted: Sequence[str] = ()
             ) -> Iterator[bytes]:
    """The body at ``uri`` in chunks.  A hop the filters refuse raises ``Refused``; a connection error or
    an HTTP status other than 200 raises ``Failed`` (``Could not download <uri>: ...``).  ``timeout``
    bounds each connect and read."""
    conn, resp = _open(uri, rules, timeout, agent, trusted)
    return _chunks(conn, resp)


def fetch(uri: str, rules: Filters, timeout: float, limit: int, *, agent: str, trusted: Sequence[str] = ()
          ) -> bytes:
    """The whole body at ``uri`` within ``timeout`` seconds in all (a server dripping bytes cannot hold
    the caller longer) and ``limit`` bytes (``Failed`` past either, reading no further)."""
    deadline = time.monotonic() + timeout
    conn, resp = _open(uri, rules, timeout, agent, trusted)
    body = bytearray()
    try:
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise TooLarge(f"{uri} exceeds the maximum allowed size ({limit} bytes)")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed(f"Could not download {uri}: timed out after {timeout:g} s")
            conn.pinned.settimeout(left)  # (conn.sock is let go once a closing response is read)
            chunk = resp.read1(1 << 16)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > limit:
                raise TooLarge(f"{uri} exceeds the maximum allowed size ({limit} bytes)")
    except (OSError, http.client.HTTPException) as exc:
        raise Failed(f"Could not download {uri}: {exc}") from None
    finally:
        conn.close()


def _chunks(conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := resp.read(CHUNK):
            yield chunk
    finally:
        conn.close()

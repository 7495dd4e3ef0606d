"""``web-download``: fetching an image from an http(s) URL on the cloud's side, safely.

A URI is checked against Glance's import filters (schemes, hosts, ports), then its host is resolved and
every address checked: loopback, link-local (169.254.169.254, the metadata service), unspecified,
multicast and reserved addresses are refused unless the operator allowed their network.  The connection
goes to the address that was checked, never to a second resolution of the name (DNS rebinding), and
redirects are followed by hand so that each hop passes the same checks.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from onestack.config import ImageImport
from onestack.http.errors import BadRequest

CHUNK = 1 << 20
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(BadRequest):
    def __init__(self, uri: str, why: str):
        super().__init__(f"URI for web-download does not pass filtering: {uri} ({why})")


def _listed(value, allowed: list, disallowed: list) -> bool:
    return value in allowed if allowed else value not in disallowed


def _dangerous(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
            or address.is_reserved)


def check(uri: str, rules: ImageImport) -> tuple[str, str, int, str]:
    """Refuse the URI (400) unless every filter lets it through; return scheme, host, port and the
    address to connect to."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise Refused(uri, "not a valid URI") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not _listed(scheme, rules.allowed_schemes, rules.disallowed_schemes):
        raise Refused(uri, f"scheme {scheme!r} is not allowed")
    if not host or not _listed(host, rules.allowed_hosts, rules.disallowed_hosts):
        raise Refused(uri, f"host {host!r} is not allowed")
    port = port or DEFAULT_PORTS[scheme]
    if not _listed(port, rules.allowed_ports, rules.disallowed_ports):
        raise Refused(uri, f"port {port} is not allowed")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(uri, f"host {host!r} does not resolve") from None
    allowed_networks = [ipaddress.ip_network(n, strict=False) for n in rules.allowed_networks]
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        if str(address) in rules.disallowed_hosts:
            raise Refused(uri, f"address {address} is not allowed")
        if _dangerous(address) and not any(address in net for net in allowed_networks):
            raise Refused(uri, f"address {address} is not reachable for imports")
    return scheme, host, port, str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a given address, with the certificate still checked against the URI's host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def download(uri: str, rules: ImageImport) -> Iterator[bytes]:
    """The body at ``uri`` in chunks; an HTTP error or a refused hop raises BadRequest."""
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port, address = check(uri, rules)
        kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = kind(address, host, port, rules.download_timeout)
        parts = urlsplit(uri)
        try:
            conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                         headers={"User-Agent": "onestack-image-import"})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise BadRequest(f"Could not download {uri}: {exc}") from None
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader("Location"):
            uri = urljoin(uri, resp.getheader("Location"))
            conn.close()
            continue
        if resp.status != 200:
            conn.close()
            raise BadRequest(f"Could not download {uri}: HTTP {resp.status}")
        return _chunks(conn, resp)
    raise BadRequest(f"Too many redirects downloading {uri}")


def _chunks(conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while chunk := resp.read(CHUNK):
            yield chunk
    finally:
        conn.close()

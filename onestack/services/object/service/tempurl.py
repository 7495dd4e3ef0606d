"""Temporary URLs: an HMAC of the method, the expiry and the path, under a key the account or the
container keeps, lets anyone holding the URL do that one thing until it expires, with no token.

The signed text is ``<method>\\n<expires>\\n<path>``; a prefix URL signs ``prefix:<path to the prefix>``
and reaches every object under it; an IP range adds a first line ``ip=<range>`` and holds only for
clients inside it.  The signature is the hex digest (its length tells SHA-1, SHA-256 or SHA-512 apart)
or ``<digest>:<base64>``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import hashlib
import hmac
import ipaddress
import time
from urllib.parse import quote

from onestack.http import errors

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
KEY_HEADERS = ("Temp-Url-Key", "Temp-Url-Key-2")
CAPABILITIES = {"methods": list(METHODS), "incoming_remove_headers": ["x-timestamp"],
                "incoming_allow_headers": [], "outgoing_remove_headers": ["x-object-meta-*"],
                "outgoing_allow_headers": ["x-object-meta-public-*"], "allowed_digests": sorted(DIGESTS)}


class Invalid(errors.Unauthorized):
    def __init__(self):
        super().__init__("401 Unauthorized: Temp URL invalid\n")


@dataclasses.dataclass(frozen=True)
class Signed:
    """What a temp URL's query carries."""

    signature: str
    expires: int
    prefix: str | None = None
    ip_range: str | None = None

    @classmethod
    def of(cls, query) -> Signed:
        """The query's temp URL fields; 401 when they cannot be one (Swift answers a bad one so)."""
        expires = _expiry(query.get("temp_url_expires", ""))
        if expires is None:
            raise Invalid()
        ip_range = query.get("temp_url_ip_range")
        if ip_range is not None:
            try:
                ipaddress.ip_network(ip_range, strict=False)
            except ValueError:
                raise errors.BadRequest(f"Invalid temp_url_ip_range value: {ip_range}") from None
        return cls(query["temp_url_sig"], expires, query.get("temp_url_prefix"), ip_range)

    def texts(self, method: str, containers: list[str], name: str) -> list[bytes]:
        """The texts one of whose HMACs the signature must be: one for each path the container may have
        been signed under (``containers``: with and without the service's prefix), ``name`` in it."""
        out = []
        for container in containers:
            path = f"prefix:{container}/{self.prefix}" if self.prefix is not None else f"{container}/{name}"
            text = f"{method}\n{self.expires}\n{path}"
            if self.ip_range is not None:
                text = f"ip={self.ip_range}\n{text}"
            out.append(text.encode())
        return out


def _expiry(value: str) -> int | None:
    """Seconds since the epoch, given as such or as ISO 8601 in UTC (``2030-01-01T00:00:00Z``)."""
    if value.isascii() and value.isdigit():  # isdigit() alone takes "²", which int() refuses
        return int(value)
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return None


def _digest(signature: str) -> tuple[str, bytes] | None:
    """(digest name, signature bytes) of a hex or ``name:base64`` signature; None when it is neither."""
    name, sep, encoded = signature.partition(":")
    try:
        if sep:
            padded = encoded + "=" * (-len(encoded) % 4)
            return name, base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        return HEX_LENGTHS.get(len(signature), ""), bytes.fromhex(signature)
    except (ValueError, binascii.Error):
        return None


def verify(signed: Signed, keys: list[str], method: str, containers: list[str], object_name: str,
           client_ip: str | None, now: float | None = None) -> None:
    """Pass when ``signed`` is valid for ``method`` on ``object_name`` under one of ``keys`` (a HEAD is
    valid wherever a GET, HEAD or PUT would be); 401 otherwise."""
    if signed.expires < (now or time.time()) or not keys:
        raise Invalid()
    if signed.prefix is not None and not object_name.startswith(signed.prefix):
        raise Invalid()
    if signed.ip_range is not None:
        if client_ip is None or ipaddress.ip_address(client_ip) not in ipaddress.ip_network(signed.ip_range,
                                                                                             strict=False):
            raise Invalid()
    methods = ("GET", "HEAD", "PUT") if method == "HEAD" else (method,)
    if not signs(signed.signature, keys, [t for each in methods for t in signed.texts(each, containers, object_name)]):
        raise Invalid()


def signs(signature: str, keys: list[str], texts: list[bytes]) -> bool:
    """Whether ``signature`` (hex, its length telling the digest, or ``<digest>:<base64>``; one of ``DIGESTS``)
    is the HMAC of one of ``texts`` under one of ``keys``: the check temp URLs and form posts share."""
    found = _digest(signature)
    if found is None or found[0] not in DIGESTS:
        return False
    name, given = found
    return any(hmac.compare_digest(hmac.new(key.encode(), text, DIGESTS[name]).digest(), given)
               for key in keys for text in texts)


def keys(account_meta: dict, container_meta: dict) -> list[str]:
    """Every key the account and the container keep."""
    out = [account_meta.get(f"X-Account-Meta-{h}") for h in KEY_HEADERS]
    out += [container_meta.get(f"X-Container-Meta-{h}") for h in KEY_HEADERS]
    return [k for k in out if k]


def disposition(query, object_name: str, kept: str | None) -> str | None:
    """The Content-Disposition a temp URL's GET answers with (``filename``, ``inline``); None to keep the
    object's own."""
    filename, inline = query.get("filename"), "inline" in query
    if filename is None:
        if inline:
            return "inline"
        if kept:
            return None
        filename = object_name.rstrip("/").rsplit("/", 1)[-1]
    escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
    return f"{'inline' if inline else 'attachment'}; filename=\"{escaped}\"; filename*=UTF-8''{quote(filename)}"


def shown(headers: dict[str, str]) -> dict[str, str]:
    """The headers a temp URL's answer keeps: no user metadata but ``X-Object-Meta-Public-*``."""
    return {k: v for k, v in headers.items()
            if not k.lower().startswith("x-object-meta-") or k.lower().startswith("x-object-meta-public-")}

"""``web-download``: fetching an image from an http(s) URL on the cloud's side, safely.

The checks (Glance's import filters, refused loopback, link-local and metadata addresses, the connection
pinned to the address checked, each redirect checked again) are the shared ones of
``onestack.http.outbound``; this module words their refusal as Glance does.
"""

from __future__ import annotations

from collections.abc import Iterator

from onestack.config import ImageImport
from onestack.http import outbound
from onestack.http.errors import BadRequest


class Refused(BadRequest):
    def __init__(self, uri: str, why: str):
        super().__init__(f"URI for web-download does not pass filtering: {uri} ({why})")


def check(uri: str, rules: ImageImport) -> tuple[str, str, int, str]:
    """Refuse the URI (400) unless every filter lets it through; return scheme, host, port and the
    address to connect to."""
    try:
        return outbound.check(uri, rules)
    except outbound.Refused as exc:
        raise Refused(uri, exc.why) from None


def download(uri: str, rules: ImageImport) -> Iterator[bytes]:
    """The body at ``uri`` in chunks; an HTTP error or a refused hop raises BadRequest."""
    try:
        return outbound.download(uri, rules, rules.download_timeout, agent="onestack-image-import")
    except outbound.Refused as exc:
        raise Refused(uri, exc.why) from None

"""OAuth 1.0a request signatures (RFC 5849), as OS-OAUTH1 clients send them.

Only HMAC-SHA1 over the ``Authorization: OAuth ...`` header, which is what Keystone's clients use.
The signature covers the method, the URL the client called and every oauth_* and query parameter;
the key is the consumer's secret joined with the token's secret, so both parties are proven at once.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from onestack.http.errors import BadRequest, Unauthorized

# A signed request older or newer than this is refused.  There is no nonce store (Keystone keeps none
# either): a replay inside the window can only repeat what the original request did.
TIMESTAMP_WINDOW = 600
DEFAULT_PORTS = {"http": 80, "https": 443}


def escape(value: str) -> str:
    """RFC 5849 3.6: everything but unreserved characters is percent-encoded."""
    return quote(value, safe="~")


def new_secret() -> str:
    return secrets.token_urlsafe(24)


@dataclasses.dataclass(frozen=True)
class SignedRequest:
    """What a handler knows of a request that carries an OAuth signature."""

    method: str
    url: str
    authorization: str | None
    query: tuple[tuple[str, str], ...] = ()

    def params(self) -> dict[str, str]:
        """The oauth_* parameters of the Authorization header; 401 when there are none."""
        header = self.authorization or ""
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "oauth":
            raise Unauthorized("The request needs an OAuth Authorization header.")
        params: dict[str, str] = {}
        for part in rest.split(","):
            key, sep, value = part.strip().partition("=")
            if not sep:
                continue
            params[unquote(key)] = unquote(value.strip().strip('"'))
        params.pop("realm", None)
        for needed in ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_timestamp"):
            if needed not in params:
                raise Unauthorized(f"The OAuth Authorization header lacks {needed}.")
        return params


def _base_string(req: SignedRequest, params: dict[str, str]) -> str:
    parts = urlsplit(req.url)
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{parts.port}"
    uri = urlunsplit((parts.scheme.lower(), host, parts.path.replace("//", "/"), "", ""))
    pairs = [(k, v) for k, v in params.items() if k != "oauth_signature"] + list(req.query)
    normalized = "&".join(f"{k}={v}" for k, v in sorted((escape(k), escape(v)) for k, v in pairs))
    return "&".join((escape(req.method.upper()), escape(uri), escape(normalized)))


def verify(req: SignedRequest, params: dict[str, str], consumer_secret: str, token_secret: str = "") -> None:
    """401 unless ``params`` (from ``req.params()``) carry a fresh, correct HMAC-SHA1 signature."""
    if params["oauth_signature_method"] != "HMAC-SHA1":
        raise BadRequest(f"Unsupported OAuth signature method: {params['oauth_signature_method']}.")
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        raise BadRequest("oauth_timestamp must be an integer.") from None
    if abs(time.time() - stamp) > TIMESTAMP_WINDOW:
        raise Unauthorized("The OAuth request is too old or from the future.")
    key = f"{escape(consumer_secret)}&{escape(token_secret)}".encode()
    expected = base64.b64encode(hmac.new(key, _base_string(req, params).encode(), hashlib.sha1).digest())
    if not hmac.compare_digest(expected, params["oauth_signature"].encode()):
        raise Unauthorized("Invalid OAuth signature.")

"""Who signed an S3 request: AWS Signature Version 4 (header or presigned query) and Version 2, checked
against the secret of the Keystone EC2 credential the request names.

Version 4 signs a canonical form of the request (method, the path as sent, the sorted query, the signed
headers, the payload's SHA-256 or ``UNSIGNED-PAYLOAD``) under a key derived from the secret, the date, the
region and the service; the region is whichever the client signed for.  The payload itself is checked
against the hash it was signed with as it is read (``Payload``).
"""

from __future__ import annotations

import base64
import calendar
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from onestack.services.object.api.s3.faults import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MAX_SKEW = 15 * 60
MAX_EXPIRES = 7 * 24 * 3600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# V2 signs these sub-resources of the query (and no other parameter)
V2_SUBRESOURCES = frozenset({
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
    "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires", "tagging", "torrent",
    "uploadId", "uploads", "versionId", "versioning", "versions", "website"})


@dataclasses.dataclass(frozen=True)
class Signed:
    """What a request says about its signature, before the secret is known.  ``check(secret)`` raises
    SignatureDoesNotMatch or returns the V4 signing key (which signs an aws-chunked body's chunks)."""

    access: str
    check: Callable[[str], bytes]
    payload: str = UNSIGNED  # the payload hash the signature covers
    seed: tuple[str, str, str] | None = None  # V4: the request's time, scope and signature


@dataclasses.dataclass(frozen=True)
class Raw:
    """The request as it came: what a signature is computed over."""

    method: str
    path: str  # as sent, still percent-encoded
    query: str  # as sent
    headers: dict[str, str]  # lower-cased names
    root: str = ""  # the service's prefix at the start of ``path``
    bucket: str = ""  # the bucket its Host named (virtual-hosted): Version 2 signs ``/<bucket><path>``

    def params(self) -> list[tuple[str, str]]:
        out = []
        for part in self.query.split("&"):
            if part:
                key, _, value = part.partition("=")
                out.append((unquote(key.replace("+", "%20")), unquote(value.replace("+", "%20"))))
        return out


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    return _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _amz_time(value: str) -> float:
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None


def _canonical(raw: Raw, signed_headers: list[str], payload: str, skip: str | None = None) -> str:
    query = sorted((_encode(k), _encode(v)) for k, v in raw.params() if k != skip)
    headers = "".join(f"{h}:{' '.join(raw.headers.get(h, '').split())}\n" for h in signed_headers)
    return "\n".join((raw.method, raw.path or "/", "&".join(f"{k}={v}" for k, v in query), headers,
                      ";".join(signed_headers), payload))


def _fields(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        out[key] = value
    return out


def _scope(credential: str) -> tuple[str, str, str, str, str]:
    """(access, date, region, service, scope) of ``<access>/<date>/<region>/<service>/aws4_request``."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or parts[3] != "s3":
        raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential "
                      "is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    return parts[0], parts[1], parts[2], parts[3], "/".join(parts[1:])


def _v4(raw: Raw, access_scope: str, amz_date: str, signed_headers: list[str], signature: str, payload: str,
        skip: str | None) -> Signed:
    access, date, region, service, scope = _scope(access_scope)
    if not amz_date.startswith(date):
        raise S3Error("SignatureDoesNotMatch", "The date of the credential scope is not the request's date.")
    if "host" not in signed_headers:
        raise S3Error("AccessDenied", "The host header must be signed.")
    canonical = _canonical(raw, signed_headers, payload, skip)
    to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))

    def check(secret: str) -> bytes:
        key = signing_key(secret, date, region, service)
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            raise mismatch()
        return key

    return Signed(access, check, payload, (amz_date, scope, signature))


def mismatch() -> S3Error:
    return S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature "
                   "you provided. Check your key and signing method.")


def parse(raw: Raw, now: float | None = None) -> Signed | None:
    """The request's signature (None: an anonymous request); 4xx when it is malformed or out of date."""
    now = now or time.time()
    header = raw.headers.get("authorization", "")
    params = dict(raw.params())
    if header.startswith(ALGORITHM + " "):
        fields = _fields(header[len(ALGORITHM) + 1:])
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed.")
        amz_date = raw.headers.get("x-amz-date") or ""
        if not amz_date:
            stamp = _http_date(raw.headers.get("date", ""))
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(stamp))
        if abs(_amz_time(amz_date) - now) > MAX_SKEW:
            raise S3Error("RequestTimeTooSkewed", "The difference between the request time and the current "
                          "time is too large.", status=403)
        payload = raw.headers.get("x-amz-content-sha256", "")
        if not payload:
            raise S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
        return _v4(raw, fields["Credential"], amz_date, fields["SignedHeaders"].split(";"), fields["Signature"],
                   payload, None)
    if params.get("X-Amz-Algorithm") == ALGORITHM:
        try:
            amz_date, expires = params["X-Amz-Date"], int(params["X-Amz-Expires"])
            credential, signed_headers = params["X-Amz-Credential"], params["X-Amz-SignedHeaders"].split(";")
            signature = params["X-Amz-Signature"]
        except (KeyError, ValueError):
            raise S3Error("AuthorizationQueryParametersError", "Query-string authentication version 4 requires "
                          "the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
                          "X-Amz-SignedHeaders, and X-Amz-Expires parameters.") from None
        if not 0 < expires <= MAX_EXPIRES:
            raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800.")
        started = _amz_time(amz_date)
        if now > started + expires:
            raise S3Error("AccessDenied", "Request has expired")
        if started - now > MAX_SKEW:
            raise S3Error("AccessDenied", "Request is not valid yet")
        return _v4(raw, credential, amz_date, signed_headers, signature, UNSIGNED, "X-Amz-Signature")
    if header.startswith("AWS "):
        access, _, signature = header[4:].partition(":")
        stamp = raw.headers.get("x-amz-date") or raw.headers.get("date", "")
        if abs(_http_date(stamp) - now) > MAX_SKEW:
            raise S3Error("RequestTimeTooSkewed", "The difference between the request time and the current "
                          "time is too large.", status=403)
        return Signed(access, _v2_check(raw, signature, None))
    if "AWSAccessKeyId" in params and "Signature" in params:
        try:
            expires = int(params.get("Expires", ""))
        except ValueError:
            raise S3Error("AccessDenied", "Query-string authentication requires the Expires parameter.") from None
        if now > expires:
            raise S3Error("AccessDenied", "Request has expired")
        return Signed(params["AWSAccessKeyId"], _v2_check(raw, params["Signature"], str(expires)))
    if header:
        raise S3Error("AccessDenied", "Unsupported Authorization Type")
    return None


def _http_date(value: str) -> float:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        raise S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None


def _v2_check(raw: Raw, signature: str, expires: str | None) -> Callable[[str], bytes]:
    """Version 2: HMAC-SHA1 of the method, Content-MD5, Content-Type, the date (or a presigned URL's
    expiry), the x-amz- headers and the resource with its signed sub-resources."""
    amz = sorted((k, " ".join(v.split())) for k, v in raw.headers.items() if k.startswith("x-amz-"))
    date = expires if expires is not None else "" if "x-amz-date" in raw.headers else raw.headers.get("date", "")
    subresources = sorted((k, v) for k, v in raw.params() if k in V2_SUBRESOURCES)
    query = "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources) if subresources else ""
    head = "\n".join((raw.method, raw.headers.get("content-md5", ""), raw.headers.get("content-type", ""), date,
                      *(f"{k}:{v}" for k, v in amz))) + "\n"
    # clients sign the path as sent or decoded, with the endpoint's prefix or (botocore) without it
    inner = raw.path[len(raw.root):] if raw.root and raw.path.startswith(raw.root) else raw.path
    paths = (raw.path, unquote(raw.path), inner, unquote(inner))
    if raw.bucket:
        paths = tuple(f"/{raw.bucket}{path}" for path in paths)
    texts = {head + path + query for path in paths}

    def check(secret: str) -> bytes:
        for text in texts:
            expected = base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()
            if hmac.compare_digest(expected, signature):
                return b""
        raise mismatch()

    return check

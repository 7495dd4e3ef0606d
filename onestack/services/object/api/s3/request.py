"""One S3 request: its bucket and key (path-style), its signer, and its body checked against what was
signed (the SHA-256, Content-MD5, an ``x-amz-checksum-*``), aws-chunked bodies decoded."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
import zlib
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

from starlette.responses import Response

from onestack.http import errors
from onestack.http.context import Context
from onestack.http.routing import Call
from onestack.services.identity.public import Identity
from onestack.services.object import policies, schemas
from onestack.services.object.api.s3 import auth, hosts
from onestack.services.object.api.s3.faults import S3Error
from onestack.services.object.service import ObjectService
from onestack.services.object.views import s3 as xml

CHECKSUMS = {"x-amz-checksum-crc32": "crc32", "x-amz-checksum-sha1": "sha1", "x-amz-checksum-sha256": "sha256"}
CHUNK_SIGNING = "AWS4-HMAC-SHA256-PAYLOAD"


class S3:
    __slots__ = ("call", "svc", "bucket", "key", "ctx", "account", "request_id", "signed", "_signing_key")

    def __init__(self, call: Call, bucket: str | None, key: str | None):
        self.call = call
        self.svc: ObjectService = call.runtime.object
        self.bucket, self.key = bucket, key
        self.request_id = uuid.uuid4().hex[:16].upper()
        self.ctx: Context | None = None
        self.account = ""
        self.signed: auth.Signed | None = None
        self._signing_key = b""

    @classmethod
    def parse(cls, call: Call) -> S3:
        """Split ``/<bucket>/<key>`` (after the service's prefix) and check the signature."""
        raw_path = (call.request.scope.get("raw_path") or call.request.url.path.encode()).split(b"?", 1)[0]
        root = call.request.scope.get("root_path", "").encode()
        inner = raw_path[len(root):] if root and raw_path.startswith(root) else raw_path
        try:
            path = unquote_to_bytes(inner).decode("utf-8")
        except UnicodeDecodeError:
            raise S3Error("InvalidURI", "Couldn't parse the specified URI.", status=400) from None
        if "\x00" in path:
            raise S3Error("InvalidURI", "Couldn't parse the specified URI.", status=400)
        hosted = call.request.scope.get(hosts.BUCKET) or ""
        if hosted:  # a virtual-hosted bucket: the whole path is its key
            bucket, key = hosted, path[1:] if path.startswith("/") else path
        else:
            bucket, _, key = path.lstrip("/").partition("/")
        req = cls(call, bucket or None, key or None)
        if key and len(key.encode()) > schemas.MAX_OBJECT_NAME_LENGTH:
            raise S3Error("KeyTooLongError", "Your key is too long.")
        req.authenticate(raw_path.decode("latin-1"), root.decode(), hosted)
        return req

    def authenticate(self, path: str, root: str, hosted: str = "") -> None:
        request = self.call.request
        raw = auth.Raw(request.method, path, request.scope.get("query_string", b"").decode("latin-1"),
                       {k.lower(): v for k, v in request.headers.items()}, root, hosted)
        signed = auth.parse(raw)
        if signed is None:
            raise S3Error("AccessDenied", "Anonymous access is not allowed.")
        identity: Identity = self.call.runtime.identity
        found = identity.ec2_credential(signed.access)
        if found is None:
            raise S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        secret, ctx = found
        self._signing_key = signed.check(secret)
        self.signed, self.ctx, self.account = signed, ctx, f"{policies.RESELLER_PREFIX}{ctx.project_id}"

    @property
    def method(self) -> str:
        return self.call.request.method

    @property
    def headers(self):
        return self.call.headers

    @property
    def query(self):
        return self.call.query

    @property
    def resource(self) -> str:
        return "/" + "/".join(p for p in (self.bucket, self.key) if p)

    @property
    def owner(self) -> tuple[str, str]:
        return self.ctx.project_id or "", self.ctx.project_name or ""

    def authorize(self, action: str) -> None:
        """``action`` (read, list, write, own) on the caller's own account, by its roles there."""
        try:
            policies.authorize(self.ctx, self.account, action)
        except errors.APIError as exc:  # 401/403 of the Swift rules: S3 says AccessDenied
            raise S3Error("AccessDenied", "Access Denied") from exc

    def need_bucket(self):
        """The bucket's container; NoSuchBucket when it does not exist."""
        found = self.svc.find_container(self.account, self.bucket)
        if found is None:
            raise S3Error("NoSuchBucket", "The specified bucket does not exist.", extra={"BucketName": self.bucket})
        return found

    def length(self) -> int | None:
        """The body's length once decoded (None: chunked with no length given)."""
        value = self.headers.get("x-amz-decoded-content-length") or self.headers.get("content-length")
        if value is None:
            return None
        if not value.isdigit():
            raise S3Error("InvalidArgument", "Invalid Content-Length.")
        return int(value)

    def content_md5(self) -> str | None:
        """The Content-MD5 header as hex (what the object service checks the data against)."""
        value = self.headers.get("content-md5")
        if value is None:
            return None
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
        return digest.hex()

    def body(self) -> Iterator[bytes]:
        """The body as it arrives, decoded from aws-chunked, failing at its end when it is not what was signed."""
        signed = self.signed
        chunks = self.call.chunks()
        if signed.payload.startswith("STREAMING-") or "aws-chunked" in self.headers.get("content-encoding", ""):
            chunks = self._dechunk(chunks, signed.payload == auth.STREAMING)
        return self._checked(chunks, signed.payload)

    def read_body(self, limit: int) -> bytes:
        data = bytearray()
        for chunk in self.body():
            data += chunk
            if len(data) > limit:
                raise S3Error("MalformedXML", "The request body is too large.")
        return bytes(data)

    def _checked(self, chunks: Iterator[bytes], payload: str) -> Iterator[bytes]:
        sha = hashlib.sha256() if len(payload) == 64 else None
        wanted = {name: self.headers[header] for header, name in CHECKSUMS.items() if header in self.headers}
        digests = {name: hashlib.new(name) for name in wanted if name != "crc32"}
        crc = 0
        for chunk in chunks:
            if sha is not None:
                sha.update(chunk)
            for digest in digests.values():
                digest.update(chunk)
            if "crc32" in wanted:
                crc = zlib.crc32(chunk, crc)
            yield chunk
        if sha is not None and sha.hexdigest() != payload.lower():
            raise S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match "
                          "what was computed.")
        got = {name: base64.b64encode(d.digest()).decode() for name, d in digests.items()}
        if "crc32" in wanted:
            got["crc32"] = base64.b64encode(crc.to_bytes(4, "big")).decode()
        for name, value in wanted.items():
            if got[name] != value:
                raise S3Error("BadDigest", f"The {name.upper()} you specified did not match the calculated checksum.")

    def _dechunk(self, chunks: Iterator[bytes], verify: bool) -> Iterator[bytes]:
        """aws-chunked: ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`` ... ending with a zero-size
        chunk (and trailers); each chunk's signature chains from the request's when the payload is signed."""
        buffer = bytearray()
        source = iter(chunks)
        previous = self.signed.seed[2] if self.signed.seed else ""

        def take_line() -> bytes:
            while b"\r\n" not in buffer:
                more = next(source, None)
                if more is None or len(buffer) > 4096:
                    raise S3Error("IncompleteBody", "The request body terminated unexpectedly")
                buffer.extend(more)
            line, _, rest = bytes(buffer).partition(b"\r\n")
            buffer[:] = rest
            return line

        def take(count: int) -> bytes:
            while len(buffer) < count:
                more = next(source, None)
                if more is None:
                    raise S3Error("IncompleteBody", "The request body terminated unexpectedly")
                buffer.extend(more)
            out = bytes(buffer[:count])
            del buffer[:count]
            return out

        while True:
            size_text, _, extension = take_line().decode("latin-1").partition(";")
            try:
                size = int(size_text, 16)
            except ValueError:
                raise S3Error("IncompleteBody", "The aws-chunked body is malformed.") from None
            data = take(size)
            if verify:
                previous = self._chunk_signature(extension, previous, data)
            if size == 0:
                return
            if take(2) != b"\r\n":
                raise S3Error("IncompleteBody", "The aws-chunked body is malformed.")
            yield data

    def _chunk_signature(self, extension: str, previous: str, data: bytes) -> str:
        given = extension.partition("chunk-signature=")[2].strip()
        amz_date, scope, _ = self.signed.seed
        text = "\n".join((CHUNK_SIGNING, amz_date, scope, previous, auth.EMPTY_SHA256,
                          hashlib.sha256(data).hexdigest()))
        expected = hmac.new(self._signing_key, text.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise auth.mismatch()
        return expected


def reply(status: int = 200, body: bytes = b"", headers: dict | None = None, content_type: str = xml.XML) -> Response:
    headers = dict(headers or {})
    if body:
        headers.setdefault("Content-Type", content_type)
    headers.setdefault("Content-Length", str(len(body)))
    return Response(body, status_code=status, headers=headers)

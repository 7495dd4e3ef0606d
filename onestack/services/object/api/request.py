"""One Swift request: its path split as Swift splits it, its caller, and what every handler reads from it."""

from __future__ import annotations

import mimetypes
import time
import uuid
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response

from onestack.http import errors
from onestack.http.context import Context
from onestack.http.routing import Call
from onestack.services.object import policies, schemas, views
from onestack.services.object.public import Query
from onestack.services.object.service import ObjectService, tempurl, versions

VERSIONS = ("v1", "v1.0")
FORMATS = {"application/json": "json", "application/xml": "xml", "text/xml": "xml", "text/plain": "plain"}


class Swift:
    """The call, the service, the path's account/container/object and the caller (None: no token)."""

    __slots__ = ("call", "svc", "version", "account", "container", "obj", "path", "trans_id", "temp_url", "_ctx",
                 "_authenticated", "_service_roles")

    def __init__(self, call: Call, version: str, account: str, container: str | None, obj: str | None):
        self.call = call
        self.svc: ObjectService = call.runtime.object
        self.version, self.account, self.container, self.obj = version, account, container, obj
        self.path = f"/{version}/{account}"  # the path as the client sent it, decoded (set by ``parse``)
        self.trans_id = self.trans_id_of(call.request)
        self.temp_url = ""  # "account" or "container": the request is let in by a temp URL under that key
        self._ctx: Context | None = None
        self._authenticated = False
        self._service_roles: frozenset[str] | None = None

    @staticmethod
    def trans_id_of(request: Request) -> str:
        """Swift's transaction id (``tx`` + 21 hex, ``-`` + the hex time), from this request's id."""
        request_id = request.scope.get("onestack.request_id") or uuid.uuid4().hex
        return f"tx{request_id.replace('req-', '').replace('-', '')[:21]}-{int(time.time()):010x}"

    @classmethod
    def parse(cls, call: Call) -> Swift:
        """Split the raw path: ``/v1/<account>[/<container>[/<object>]]``; names are UTF-8 without NUL."""
        raw = call.request.scope.get("raw_path") or call.request.url.path.encode()
        root = call.request.scope.get("root_path", "").encode()
        if root and raw.startswith(root):
            raw = raw[len(root):]
        try:
            path = unquote_to_bytes(raw.split(b"?", 1)[0]).decode("utf-8")
        except UnicodeDecodeError:
            raise errors.PreconditionFailed("Invalid UTF8 or contains NULL") from None
        if "\x00" in path:
            raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
        segments = path.split("/", 4)
        if len(segments) < 3 or segments[1] not in VERSIONS or not segments[2]:
            raise errors.NotFound()
        account = segments[2]
        container = segments[3] if len(segments) > 3 and segments[3] else None
        obj = segments[4] if len(segments) > 4 and segments[4] else None
        if obj is not None and container is None:
            raise errors.NotFound()
        for value in call.headers.values():
            if len(value) > schemas.MAX_HEADER_SIZE:
                raise errors.BadRequest(f"Header value too long: {value[:64]}")
        schemas.check_name("Account", account, schemas.MAX_ACCOUNT_NAME_LENGTH)
        if container is not None:
            schemas.check_name("Container", container, schemas.MAX_CONTAINER_NAME_LENGTH)
        if obj is not None:
            schemas.check_name("Object", obj, schemas.MAX_OBJECT_NAME_LENGTH)
        req = cls(call, segments[1], account, container, obj)
        req.path = path
        return req

    @property
    def level(self) -> str:
        return "object" if self.obj is not None else "container" if self.container is not None else "account"

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
    def ctx(self) -> Context | None:
        """The caller; a missing or unknown token is an anonymous caller (what ACLs may still let in)."""
        if not self._authenticated:
            self._authenticated = True
            if self.headers.get("x-auth-token") or self.headers.get("x-storage-token"):
                try:
                    self._ctx = self.call.ctx if self.headers.get("x-auth-token") else \
                        self.call.runtime.authenticate(self.headers["x-storage-token"])
                except errors.Unauthorized:
                    self._ctx = None
        return self._ctx

    @property
    def service_roles(self) -> frozenset[str]:
        """The roles of the ``X-Service-Token`` (none without one, or when it is not valid), read only for
        a ``SERVICE_`` account, the one place they count."""
        if self._service_roles is None:
            self._service_roles = frozenset()
            token = self.headers.get("x-service-token")
            if token:
                try:
                    self._service_roles = frozenset(r.lower() for r in self.call.runtime.authenticate(token).roles)
                except errors.Unauthorized:
                    pass
        return self._service_roles

    def _service_roles_for(self, account: str) -> frozenset[str]:
        return self.service_roles if account.startswith(policies.SERVICE_PREFIX) else frozenset()

    def accept_temp_url(self) -> None:
        """Let the request in by its temp URL (the signature checked against the account's and container's
        keys), or answer 401."""
        signed = tempurl.Signed.of(self.query)
        if "x-copy-from" in self.headers:
            raise tempurl.Invalid()
        container = self.svc.find_container(self.account, self.container)
        inner = f"/{self.version}/{self.account}/{self.container}"
        root = self.call.request.scope.get("root_path", "")
        client = self.call.request.client
        # an account's key reaches the whole account, a container's only that container (as in Swift)
        for scope, keys in (("account", tempurl.keys(self.svc.account(self.account).meta, {})),
                            ("container", tempurl.keys({}, container.meta if container else {}))):
            try:
                tempurl.verify(signed, keys, self.method, [inner, root + inner], self.obj,
                               client.host if client else None)
            except tempurl.Invalid:
                continue
            self.temp_url = scope
            return
        raise tempurl.Invalid()

    def authorize(self, action: str, account: str | None = None, container: str | None = None) -> policies.Grant:
        """``action`` on ``account``/``container`` (default: this request's); the container's ACLs are read
        only when the caller's roles do not already decide."""
        account = account or self.account
        if self.temp_url:
            # what the URL was signed for, and (with the account's key) what its GET reads in other
            # containers: a large object's segments, a symlink's target
            if account == self.account and (container in (None, self.container) or (
                    self.temp_url == "account" and action == "read" and self.method in ("GET", "HEAD"))):
                return policies.Grant()
            raise tempurl.Invalid()
        service_roles = self._service_roles_for(account)
        held = policies.grant(self.ctx, account, service_roles)
        if held.owner or (held.reader and action in ("read", "list")):
            return held
        container = container or self.container
        found = self.svc.find_container(account, container) if container else None
        granted = policies.authorize(self.ctx, account, action, found.meta if found else None,
                                     self.headers.get("referer"), service_roles)
        archive = versions.mode(found) if found is not None and action == "write" else None
        if archive is not None:  # a write that archives a version writes there too
            self.authorize("write", account, archive[1])
        return granted

    def listing_query(self, limit_max: int) -> tuple[Query, str]:
        """The listing parameters and the format asked for (``format=`` or the Accept header)."""
        q = self.query
        limit = limit_max
        if "limit" in q:
            try:
                limit = int(q["limit"])
            except ValueError:
                raise errors.PreconditionFailed("Value of limit must be a positive integer") from None
            if limit < 0:
                raise errors.PreconditionFailed("Value of limit must be a positive integer")
            if limit > limit_max:
                raise errors.PreconditionFailed(f"Maximum limit is {limit_max}")
        for key in ("prefix", "delimiter", "marker", "end_marker", "path"):
            if "\x00" in q.get(key, ""):
                raise errors.PreconditionFailed("Invalid UTF8 or contains NULL")
        delimiter = q.get("delimiter", "")
        reverse = q.get("reverse", "").lower() in ("true", "1", "yes", "on", "t", "y")
        query = Query(limit=limit, prefix=q.get("prefix", ""), delimiter=delimiter, marker=q.get("marker", ""),
                      end_marker=q.get("end_marker", ""), reverse=reverse, path=q.get("path"))
        return query, self.listing_format()

    def listing_format(self) -> str:
        fmt = self.query.get("format", "").lower()
        if fmt in ("json", "xml", "plain"):
            return fmt
        for part in self.headers.get("accept", "").split(","):
            found = FORMATS.get(part.split(";")[0].strip().lower())
            if found:
                return found
        return "plain"

    def changes(self, kind: str, settings: frozenset[str] = frozenset()) -> dict[str, str | None]:
        """Metadata the request sets (``X-<Kind>-Meta-*``, ``settings``) or removes (``X-Remove-...``)."""
        meta, remove = f"x-{kind}-meta-", f"x-remove-{kind}-meta-"
        lowered = {s.lower() for s in settings}
        out: dict[str, str | None] = {}
        for key, value in self.headers.items():
            if key.startswith(meta):
                out[key.title()] = value.strip()
            elif key.startswith(remove):
                out[(meta + key[len(remove):]).title()] = None
            elif key in lowered:
                out[key.title()] = value.strip()
            elif key.startswith("x-remove-") and "x-" + key[len("x-remove-"):] in lowered:
                out[("x-" + key[len("x-remove-"):]).title()] = None
        return out

    def object_meta(self) -> dict[str, str]:
        """An object's user metadata and kept headers, exactly as sent (POST and PUT replace them whole).
        A user key sent blank is kept blank, as Swift keeps it; a blank kept header is left out."""
        out = {}
        kept = {h.lower() for h in schemas.OBJECT_HEADERS}
        for key, value in self.headers.items():
            if key.startswith("x-object-meta-") or (key in kept and value.strip()):
                out[key.title()] = value.strip()
        return schemas.check_meta(out, "object")

    def bulk_type(self) -> str:
        """The type of a many-object report the client accepts (Swift's bulk middleware's choice)."""
        for part in self.headers.get("accept", "").split(","):
            wanted = part.split(";")[0].strip().lower()
            if wanted in views.BULK_TYPES:
                return wanted
        return "text/plain"

    def read_body(self, limit: int, too_large: str) -> bytes:
        """The whole (small) body; 413 with ``too_large`` once it passes ``limit`` bytes."""
        data = bytearray()
        for chunk in self.call.chunks():
            data += chunk
            if len(data) > limit:
                raise errors.PayloadTooLarge(too_large)
        return bytes(data)

    def client_etag(self) -> str | None:
        etag = self.headers.get("etag")
        return etag.strip().strip('"').lower() if etag else None

    def if_none_match_star(self) -> bool:
        value = self.headers.get("if-none-match")
        if value is None:
            return False
        if value.strip() != "*":
            raise errors.BadRequest("If-None-Match only supports *")
        return True

    def content_type(self) -> str:
        given = self.headers.get("content-type", "").strip()
        if not given or self.headers.get("x-detect-content-type", "").lower() in ("true", "1", "yes", "on"):
            return mimetypes.guess_type(self.obj or "")[0] or "application/octet-stream"
        return given

    def delete_at(self) -> int | None:
        headers = self.headers
        if "x-delete-after" in headers:
            try:
                after = int(headers["x-delete-after"])
            except ValueError:
                raise errors.BadRequest("Non-integer X-Delete-After") from None
            if after < 0:
                raise errors.BadRequest("X-Delete-After in past")
            return int(time.time() + after)
        if "x-delete-at" in headers:
            try:
                at = int(headers["x-delete-at"])
            except ValueError:
                raise errors.BadRequest("Non-integer X-Delete-At") from None
            if at < time.time():
                raise errors.BadRequest("X-Delete-At in past")
            return at
        return None


def reply(status: int, headers: dict[str, str] | None = None, body: bytes = b"",
          content_type: str = "text/html; charset=UTF-8") -> Response:
    headers = {"Content-Type": content_type, **(headers or {})}
    headers.setdefault("Content-Length", str(len(body)))
    return Response(body, status_code=status, headers=headers)

"""Glance's ``swift`` store: image data as objects of this cloud's Object Storage.

The image service reaches Object Storage as any client does, through the Swift API, as its own identity:
the ``glance`` user of the ``service`` project (made by bootstrap when the store is enabled), so the data
sits in that project's account ``AUTH_<service project>``, out of every tenant's reach, as Glance's
single-tenant swift store keeps it.  The layout is Glance's: container ``glance``, an object named by the
image id; an image over the large-object size is written as segments ``<id>-00001``, ``<id>-00002``... in
the same container and then a zero-byte DLO manifest ``<id>`` (``X-Object-Manifest: glance/<id>-``).

Crash safety: the image's own name appears last (a plain object ``PUT`` is whole or absent; a manifest
is put after every segment), and the image row names ``swift`` among its stores only after that, in its
own transaction.  Whatever a cut upload or copy leaves (segments, a manifest whose row never said so) is
removed by ``sweep``, run after a restart.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from onestack.config import ImageSwiftStore
from onestack.forksafe import renew_in_children

LOG = logging.getLogger("onestack.image.swift")
MIB = 1 << 20
CHUNK = 1 << 20
TIMEOUT = httpx.Timeout(60.0, read=300.0)
LISTING_PAGE = 1000
RENEW_BEFORE = 120.0  # seconds: a token this close to expiry is renewed before use
ID_LENGTH = 36  # image ids are UUIDs; a longer name in the container is one of an image's segments


class SwiftStoreError(Exception):
    """Object Storage refused or could not be reached; the message says which and why."""


class SwiftImages:
    name = "swift"

    def __init__(self, identity_url: str, region: str, settings: ImageSwiftStore):
        self.identity_url = identity_url.rstrip("/")
        self.region = region
        self.container = settings.container
        self.large_object_size = settings.large_object_size * MIB
        self.chunk_size = settings.large_object_chunk_size * MIB
        self.credentials: tuple[str, str] | None = None  # (user id, password), set by bootstrap
        self._reconnect()
        renew_in_children(self, SwiftImages._reconnect)

    def _reconnect(self) -> None:
        self.http = httpx.Client(timeout=TIMEOUT)
        self._lock = threading.Lock()
        self._token: tuple[str, str, float] | None = None  # token, account URL, when to renew
        self._container_made = False

    def use_identity(self, user_id: str, password: str) -> None:
        self.credentials = (user_id, password)

    # -- the image service's own identity ----------------------------------------------------------------
    def _session(self, renew: bool = False) -> tuple[str, str]:
        with self._lock:
            if self._token is not None and not renew and self._token[2] > time.monotonic():
                return self._token[0], self._token[1]
        if self.credentials is None:
            raise SwiftStoreError("the image service's identity for Object Storage is not set up")
        user_id, password = self.credentials
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"id": user_id, "password": password}}},
            "scope": {"project": {"name": "service", "domain": {"id": "default"}}}}}
        try:
            resp = self.http.post(f"{self.identity_url}/v3/auth/tokens", json=body)
        except httpx.HTTPError as exc:
            raise SwiftStoreError(f"the identity service could not be reached: {exc}") from None
        if resp.status_code != 201:
            raise SwiftStoreError(f"the identity service refused the image service's user ({resp.status_code})")
        token = resp.json()["token"]
        account = _object_store_url(token.get("catalog", []), self.region)
        lifetime = _seconds_until(token.get("expires_at"))
        with self._lock:
            self._token = (resp.headers["X-Subject-Token"], account, time.monotonic() + lifetime - RENEW_BEFORE)
        return self._token[0], account

    def _url(self, account: str, name: str | None = None) -> str:
        url = f"{account}/{quote(self.container, safe='')}"
        return url if name is None else f"{url}/{quote(name, safe='')}"

    def _call(self, method: str, name: str | None = None, **kw) -> httpx.Response:
        """One request as the image service (its token renewed once if Object Storage no longer takes it)."""
        for attempt in (0, 1):
            token, account = self._session(renew=attempt == 1)
            headers = {"X-Auth-Token": token, **kw.pop("headers", {})}
            try:
                resp = self.http.request(method, self._url(account, name), headers=headers, **kw)
            except httpx.HTTPError as exc:
                raise SwiftStoreError(f"Object Storage could not be reached: {exc}") from None
            if resp.status_code != 401 or "content" in kw:  # a body once sent cannot be sent again
                return resp
            kw["headers"] = {k: v for k, v in headers.items() if k != "X-Auth-Token"}
        return resp

    def _ensure_container(self) -> None:
        if self._container_made:
            return
        resp = self._call("PUT")
        if resp.status_code not in (201, 202):
            raise SwiftStoreError(f"Object Storage refused the container {self.container} ({resp.status_code})")
        self._container_made = True

    # -- the store --------------------------------------------------------------------------------------
    def put(self, image_id: str, path: Path) -> None:
        """The image's bytes, read from its whole file, under its id; in segments first when it is large.
        A failure removes what was written and raises."""
        size = path.stat().st_size
        self._ensure_container()
        try:
            if size <= self.large_object_size:
                self._put_object(image_id, _read(path, 0, size), size)
                return
            offset, number = 0, 0
            while offset < size:
                number += 1
                part = min(self.chunk_size, size - offset)
                self._put_object(f"{image_id}-{number:05d}", _read(path, offset, part), part)
                offset += part
            self._put_object(image_id, iter(()), 0, {"X-Object-Manifest": f"{self.container}/{image_id}-"})
        except BaseException:
            with contextlib.suppress(SwiftStoreError):
                self._discard(image_id)
            raise

    def _put_object(self, name: str, chunks: Iterator[bytes], size: int, extra: dict | None = None) -> None:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size), **(extra or {})}
        resp = self._call("PUT", name, content=chunks, headers=headers)
        if resp.status_code != 201:
            raise SwiftStoreError(f"Object Storage refused {self.container}/{name} ({resp.status_code})")

    def read(self, image_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) as they arrive (a DLO reads as its segments)."""
        token, account = self._session()
        wanted = f"bytes={start}-{'' if end is None else end}"
        try:
            with self.http.stream("GET", self._url(account, image_id),
                                  headers={"X-Auth-Token": token, "Range": wanted}) as resp:
                if resp.status_code not in (200, 206):
                    raise SwiftStoreError(f"Object Storage refused to give image {image_id} ({resp.status_code})")
                yield from resp.iter_bytes(CHUNK)
        except httpx.HTTPError as exc:
            raise SwiftStoreError(f"Object Storage could not be reached: {exc}") from None

    def exists(self, image_id: str) -> bool:
        resp = self._call("HEAD", image_id)
        if resp.status_code in (200, 204):
            return True
        if resp.status_code == 404:
            return False
        raise SwiftStoreError(f"Object Storage could not say whether image {image_id} is there ({resp.status_code})")

    def delete(self, image_id: str) -> None:
        """The image's object (its manifest first, so it stops reading at once) and its segments."""
        self._discard(image_id)

    def _discard(self, image_id: str) -> None:
        for name in [image_id, *self.names(f"{image_id}-")]:
            resp = self._call("DELETE", name)
            if resp.status_code not in (204, 404):
                raise SwiftStoreError(f"Object Storage refused to delete {self.container}/{name} "
                                      f"({resp.status_code})")

    def names(self, prefix: str = "") -> list[str]:
        return [name for name, _ in self.listing(prefix)]

    def listing(self, prefix: str = "") -> list[tuple[str, float]]:
        """The container's objects under ``prefix``: each name and when it was last written (epoch)."""
        found, marker = [], ""
        while True:
            resp = self._call("GET", params={"format": "json", "prefix": prefix, "marker": marker,
                                             "limit": LISTING_PAGE})
            if resp.status_code == 404:
                return found
            if resp.status_code not in (200, 204):
                raise SwiftStoreError(f"Object Storage refused to list {self.container} ({resp.status_code})")
            page = resp.json() if resp.status_code == 200 else []
            found.extend((entry["name"], _epoch(entry.get("last_modified"))) for entry in page)
            if len(page) < LISTING_PAGE:
                return found
            marker = page[-1]["name"]

def _read(path: Path, offset: int, count: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(offset)
        while count > 0:
            chunk = fh.read(min(CHUNK, count))
            if not chunk:
                raise SwiftStoreError(f"{path.name} is shorter than it was")
            count -= len(chunk)
            yield chunk


def _object_store_url(catalog: list, region: str) -> str:
    for service in catalog:
        if service.get("type") != "object-store":
            continue
        for interface in ("internal", "public"):
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == interface and endpoint.get("region_id", region) == region:
                    return endpoint["url"].rstrip("/")
    raise SwiftStoreError("no object-store endpoint in the image service's catalog")


def _epoch(stamp: str | None) -> float:
    """Swift's ``last_modified`` (ISO 8601 in UTC, no zone) as seconds since the epoch; unknown: now."""
    try:
        return datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.UTC).timestamp()
    except (TypeError, ValueError):
        return time.time()


def _seconds_until(stamp: str | None) -> float:
    if not stamp:
        return 3600.0
    try:
        when = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 3600.0
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())

"""A backup store in Object Storage through the Swift API (Cinder's Swift backup driver): containers of
the account the caller's token reaches, one object per chunk, with the caller's token on every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx

from onestack.drivers.backups import BackupError, MissingObject

TIMEOUT = httpx.Timeout(60.0, read=300.0)
LISTING_PAGE = 1000


class SwiftStore:
    kind = "swift"

    def __init__(self, account_url: str, token: str):
        self.account_url = account_url.rstrip("/")
        self.http = httpx.Client(headers={"X-Auth-Token": token}, timeout=TIMEOUT)
        self._made: set[str] = set()

    def __enter__(self) -> SwiftStore:
        return self

    def __exit__(self, *_exc) -> None:
        self.http.close()

    def _url(self, container: str, name: str | None = None) -> str:
        url = f"{self.account_url}/{quote(container, safe='')}"
        return url if name is None else f"{url}/{quote(name, safe='/')}"

    def _call(self, method: str, url: str, **kw) -> httpx.Response:
        try:
            return self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise BackupError(f"Object Storage could not be reached: {exc}") from exc

    def _container(self, container: str) -> None:
        if container not in self._made:
            resp = self._call("PUT", self._url(container))
            if resp.status_code not in (201, 202):
                raise BackupError(f"Object Storage refused container {container} ({resp.status_code})")
            self._made.add(container)

    def put(self, container: str, name: str, data: bytes) -> None:
        self._container(container)
        resp = self._call("PUT", self._url(container, name), content=data,
                          headers={"Content-Type": "application/octet-stream"})
        if resp.status_code != 201:
            raise BackupError(f"Object Storage refused {container}/{name} ({resp.status_code})")

    def get(self, container: str, name: str) -> bytes:
        resp = self._call("GET", self._url(container, name))
        if resp.status_code == 404:
            raise MissingObject(f"the backup object {container}/{name} is missing")
        if resp.status_code != 200:
            raise BackupError(f"Object Storage refused to give {container}/{name} ({resp.status_code})")
        return resp.content

    def delete(self, container: str, name: str) -> None:
        resp = self._call("DELETE", self._url(container, name))
        if resp.status_code not in (204, 404):
            raise BackupError(f"Object Storage refused to delete {container}/{name} ({resp.status_code})")

    def names(self, container: str, prefix: str) -> Iterator[str]:
        marker = ""
        while True:
            resp = self._call("GET", self._url(container), params={
                "format": "json", "prefix": prefix, "marker": marker, "limit": LISTING_PAGE})
            if resp.status_code == 404:
                return
            if resp.status_code not in (200, 204):
                raise BackupError(f"Object Storage refused to list {container} ({resp.status_code})")
            page = resp.json() if resp.status_code == 200 else []
            for entry in page:
                yield entry["name"]
            if len(page) < LISTING_PAGE:
                return
            marker = page[-1]["name"]

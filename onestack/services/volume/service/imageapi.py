"""The Image API as Block Storage uses it (Cinder's Glance client): read an image's record and data,
make an image of a volume and fill it.  Everything goes over HTTP with the caller's token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx

from onestack.services.volume.service.catalog import Catalog, PeerError

CHUNK = 1024 * 1024


class ImageAPI:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def _url(self, token: str, path: str) -> str:
        return f"{self.catalog.endpoint(token, 'image')}/v2{path}"

    def _call(self, method: str, token: str, path: str, **kw) -> httpx.Response:
        try:
            return self.catalog.http.request(method, self._url(token, path), headers={
                "X-Auth-Token": token, **kw.pop("headers", {})}, **kw)
        except httpx.HTTPError as exc:
            raise PeerError(f"the image service could not be reached: {exc}") from exc

    def show(self, token: str, image_id: str) -> dict | None:
        """The image's record, or None when the caller cannot see such an image."""
        resp = self._call("GET", token, f"/images/{image_id}")
        if resp.status_code == 404:
            return None
        _expect(resp, 200, f"reading image {image_id}")
        return resp.json()

    def find(self, token: str, name: str) -> list[dict]:
        """The images the caller sees under ``name`` (Cinder takes an image name for imageRef)."""
        resp = self._call("GET", token, "/images", params={"name": name})
        _expect(resp, 200, f"looking up image {name!r}")
        return resp.json().get("images", [])

    def download(self, token: str, image: dict, dest: Path) -> None:
        """The image's data into ``dest``, checked against the hash the image service recorded."""
        algorithm = image.get("os_hash_algo") or "sha512"
        digest = hashlib.new(algorithm)
        try:
            with self.catalog.http.stream("GET", self._url(token, f"/images/{image['id']}/file"),
                                          headers={"X-Auth-Token": token}) as resp:
                if resp.status_code != 200:
                    resp.read()
                    _expect(resp, 200, f"downloading image {image['id']}")
                with open(dest, "wb") as out:
                    for chunk in resp.iter_bytes(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise PeerError(f"the download of image {image['id']} was cut: {exc}") from exc
        if image.get("os_hash_value") and digest.hexdigest() != image["os_hash_value"]:
            raise PeerError(f"the data of image {image['id']} do not match its {algorithm} hash")

    def create(self, token: str, record: dict) -> dict:
        resp = self._call("POST", token, "/images", json=record)
        if resp.status_code in (400, 403, 409, 413):
            raise PeerError(f"the image service refused the image: {_message(resp)}", resp.status_code)
        _expect(resp, 201, "creating the image")
        return resp.json()

    def upload(self, token: str, image_id: str, source: Path) -> None:
        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as f:
                while block := f.read(CHUNK):
                    yield block

        resp = self._call("PUT", token, f"/images/{image_id}/file", content=chunks(),
                          headers={"Content-Type": "application/octet-stream"})
        _expect(resp, 204, f"uploading the data of image {image_id}")

    def delete(self, token: str, image_id: str) -> None:
        resp = self._call("DELETE", token, f"/images/{image_id}")
        if resp.status_code not in (204, 404):
            _expect(resp, 204, f"deleting image {image_id}")


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "message" in body:
            return str(body["message"])
    return resp.text[:300]


def _expect(resp: httpx.Response, status: int, doing: str) -> None:
    if resp.status_code != status:
        raise PeerError(f"the image service answered {resp.status_code} {doing}: {_message(resp)}",
                        resp.status_code)

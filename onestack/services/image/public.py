"""What other services may ask of the image service: the typed facade and the plain image value it answers with.

Compute is its one user: a boot checks its image, a guest's disk is made from the image's file, a snapshot
becomes a new image whose bytes compute writes, and Nova's image proxy lists, shows, deletes and changes
images.  Calls with a caller's ``Context`` keep the image API's walls (visibility, ownership, policy,
quotas) and raise its errors; the others act as the cloud.  Every call is its own transaction.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import Protocol

from onestack.http.context import Context


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    id: str
    name: str | None
    status: str
    owner: str | None
    disk_format: str | None
    container_format: str | None
    min_ram: int
    min_disk: int
    size: int | None
    properties: dict  # the custom properties an image API answer shows
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Images(Protocol):
    def image(self, ctx: Context, image_id: str) -> ImageInfo:
        """One image ``ctx`` may see (the image API's 404 otherwise)."""

    def find(self, image_id: str) -> ImageInfo | None:
        """One image whoever may see it; None if there is none."""

    def images(self, ctx: Context, *, name: str | None = None, status: str | None = None,
               changed_since: datetime.datetime | None = None, min_ram: int | None = None,
               min_disk: int | None = None) -> list[ImageInfo]:
        """The images ``ctx``'s image list shows (hidden ones left out), newest first, as filtered."""

    def owned_by(self, project_id: str) -> list[ImageInfo]:
        ...

    def file_path(self, image_id: str) -> str | None:
        """Where the image's data is on this machine, if it has any."""

    def rbd_location(self, image_id: str) -> str | None:
        """The image's snapshot in the Ceph cluster (``pool/id@snap``) when the image service keeps it there."""

    def create(self, ctx: Context, body: dict, owner: str | None = None) -> ImageInfo:
        """A queued image from an image API create body, made as ``ctx`` (owned by ``owner`` if given)."""

    def update_properties(self, ctx: Context, image_id: str, changes: list[dict]) -> ImageInfo:
        """An image API JSON patch (``add``/``remove`` of properties) applied as ``ctx``."""

    def delete(self, ctx: Context, image_id: str) -> None:
        """The image and its data gone, as ``ctx`` deletes it through the image API."""

    def purge(self, image_id: str) -> None:
        """The image and its data gone, whoever owns it (an abandoned snapshot)."""

    def start_upload(self, ctx: Context, image_id: str, disk_format: str | None) -> ImageInfo | None:
        """A queued image claimed for its data (saving), with the format it will have; an image claimed
        already is left as it is; None if it is gone."""

    def store_data(self, image_id: str, chunks: Iterable[bytes]) -> None:
        """The claimed image's data written, inspected and published (the image API's errors if refused)."""

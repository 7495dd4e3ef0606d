"""The image service as other services see it (``public.Images``), over its rules, rows and store."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from sqlalchemy import select

from onestack.http.context import Context
from onestack.services.image.models import Image
from onestack.services.image.public import ImageInfo
from onestack.services.image.service import ImageService
from onestack.services.image.views import HIDDEN, RBD_LOCATION

# A snapshot's data has no size limit of its own: the image service's quotas decide.
UNBOUNDED = 1 << 62


def _info(image: Image) -> ImageInfo:
    return ImageInfo(id=image.id, name=image.name, status=image.status, owner=image.owner,
                     disk_format=image.disk_format, container_format=image.container_format,
                     min_ram=image.min_ram or 0, min_disk=image.min_disk or 0, size=image.size,
                     properties={k: v for k, v in (image.properties or {}).items() if k not in HIDDEN},
                     created_at=image.created_at, updated_at=image.updated_at)


class ImageFacade:
    def __init__(self, images: ImageService):
        self.service = images
        self.db = images.db

    def image(self, ctx: Context, image_id: str) -> ImageInfo:
        with self.db.read() as session:
            return _info(self.service.get(session, ctx, image_id))

    def find(self, image_id: str) -> ImageInfo | None:
        with self.db.read() as session:
            image = session.get(Image, image_id)
            return _info(image) if image is not None else None

    def images(self, ctx: Context, *, name: str | None = None, status: str | None = None,
               changed_since: datetime.datetime | None = None, min_ram: int | None = None,
               min_disk: int | None = None) -> list[ImageInfo]:
        stmt = select(Image).where(self.service.visible_to(ctx, None), Image.os_hidden.is_(False))
        if name is not None:
            stmt = stmt.where(Image.name == name)
        if status is not None:
            stmt = stmt.where(Image.status == status)
        if changed_since is not None:
            stmt = stmt.where(Image.updated_at >= changed_since)
        if min_ram is not None:
            stmt = stmt.where(Image.min_ram >= min_ram)
        if min_disk is not None:
            stmt = stmt.where(Image.min_disk >= min_disk)
        with self.db.read() as session:
            return [_info(i) for i in session.scalars(stmt.order_by(Image.created_at.desc(), Image.id.desc()))]

    def owned_by(self, project_id: str) -> list[ImageInfo]:
        with self.db.read() as session:
            return [_info(i) for i in session.scalars(select(Image).where(Image.owner == project_id))]

    def file_path(self, image_id: str) -> str | None:
        path = self.service.local_copy(image_id)
        return str(path) if path is not None else None

    def rbd_location(self, image_id: str) -> str | None:
        with self.db.read() as session:
            image = session.get(Image, image_id)
            return (image.properties or {}).get(RBD_LOCATION) if image is not None else None

    def create(self, ctx: Context, body: dict, owner: str | None = None) -> ImageInfo:
        with self.db.write() as session:
            image = self.service.create(session, ctx, body)
            if owner is not None:
                image.owner = owner
            session.flush()
            return _info(image)

    def update_properties(self, ctx: Context, image_id: str, changes: list[dict]) -> ImageInfo:
        with self.db.write() as session:
            image = self.service.get(session, ctx, image_id)
            self.service.patch(session, ctx, image, changes)
            session.flush()
            return _info(image)

    def delete(self, ctx: Context, image_id: str) -> None:
        self.service.check_rbd_clones(ctx, image_id)
        with self.db.write() as session:
            self.service.delete(session, ctx, self.service.get(session, ctx, image_id))
        # The data goes after the row, as the image API's own delete does.
        self.service.store.delete(image_id)
        self.service.staging.delete(image_id)
        self.service.delete_rbd_copy(image_id)
        self.service.delete_swift_copy(image_id)

    def purge(self, image_id: str) -> None:
        with self.db.write() as session:
            image = session.get(Image, image_id)
            if image is not None:
                session.delete(image)
        self.service.store.delete(image_id)
        self.service.delete_rbd_copy(image_id)  # a raw image (a snapshot of a root disk in Ceph) is there too

    def start_upload(self, ctx: Context, image_id: str, disk_format: str | None) -> ImageInfo | None:
        with self.db.write() as session:
            image = session.get(Image, image_id)
            if image is None:
                return None
            if image.status == "queued":
                image.disk_format = disk_format or image.disk_format
                session.flush()
                image, _ = self.service.begin_upload(session, ctx, image_id)
            return _info(image)

    def store_data(self, image_id: str, chunks: Iterable[bytes]) -> None:
        written = self.service.store.write(image_id, chunks, max_size=UNBOUNDED)
        with self.db.read() as session:
            image = session.get(Image, image_id)
            disk_format = image.disk_format if image is not None else None
        self.service.finish_upload(image_id, disk_format, written)
        self.service.copy_to_rbd(image_id)

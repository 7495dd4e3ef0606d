"""Nova's ``/images`` over the image service: Glance images as Nova shows them (``minRam``, ``metadata`` for
the custom properties, ACTIVE/SAVING/... statuses, a ``server`` for snapshots) and Nova's list filters,
read and changed as the caller, so Glance's visibility and ownership rules are the ones applied.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.listing import page
from onestack.http.times import parse_time
from onestack.services.image.models import Image
from onestack.services.image.service import ImageService
from onestack.services.image.views import HIDDEN

Url = Callable[[str], str]

# Nova knows Glance's v1 statuses only: uploading, importing and deactivated are UNKNOWN to it.
STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
          "pending_delete": "DELETED", "killed": "ERROR"}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}
# Nova's filters that are image properties (a snapshot records its server and its type).
PROPERTY_FILTERS = {"server": "instance_uuid", "type": "image_type"}


def _stamp(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def metadata(image: Image) -> dict:
    return {k: v for k, v in (image.properties or {}).items() if k not in HIDDEN}


class ImageViews:
    """``url`` is the compute API's (links under ``/v2.1`` and bookmarks without it); ``glance`` is the
    image service's root, for the ``alternate`` link Nova gives."""

    def __init__(self, url: Url, glance: str):
        self.url, self.glance = url, glance

    def links(self, image_id: str) -> list[dict]:
        return [{"rel": "self", "href": self.url(f"/v2.1/images/{image_id}")},
                {"rel": "bookmark", "href": self.url(f"/images/{image_id}")},
                {"rel": "alternate", "type": "application/vnd.openstack.image",
                 "href": f"{self.glance}/images/{image_id}"}]

    def brief(self, image: Image) -> dict:
        return {"id": image.id, "name": image.name, "links": self.links(image.id)}

    def detail(self, image: Image) -> dict:
        meta = metadata(image)
        body = {"id": image.id, "name": image.name, "minRam": image.min_ram or 0, "minDisk": image.min_disk or 0,
                "metadata": meta, "created": _stamp(image.created_at), "updated": _stamp(image.updated_at),
                "status": STATUS.get(image.status, "UNKNOWN"), "progress": PROGRESS.get(image.status, 0),
                "OS-EXT-IMG-SIZE:size": image.size, "links": self.links(image.id)}
        server = meta.get("instance_uuid")
        if server is not None:
            body["server"] = {"id": server, "links": [{"rel": "self", "href": self.url(f"/v2.1/servers/{server}")},
                                                      {"rel": "bookmark", "href": self.url(f"/servers/{server}")}]}
        disk_config = meta.get("auto_disk_config")
        if disk_config is not None:
            body["OS-DCF:diskConfig"] = "AUTO" if str(disk_config).lower() in ("true", "1", "yes", "on") else "MANUAL"
        return body


class ImageProxy:
    def __init__(self, images: ImageService):
        self.images = images

    def _get(self, session: Session, ctx: Context, image_id: str) -> Image:
        try:
            return self.images.get(session, ctx, image_id)
        except NotFound:
            raise NotFound("Image not found.") from None

    def get(self, ctx: Context, image_id: str) -> Image:
        with self.images.db.read() as session:
            return self._get(session, ctx, image_id)

    def list(self, ctx: Context, query, limit: int | None) -> tuple[list[Image], bool]:
        """The images Glance would list for the caller, through Nova's filters, newest first; and whether
        the page is full (Nova then links to the next one)."""
        with self.images.db.read() as session:
            stmt = select(Image).where(self.images.visible_to(ctx, None), Image.os_hidden.is_(False))
            if "name" in query:
                stmt = stmt.where(Image.name == query["name"])
            if "status" in query:
                stmt = stmt.where(Image.status == query["status"].lower())
            if "changes-since" in query:
                stmt = stmt.where(Image.updated_at >= parse_time(query["changes-since"], "changes-since"))
            for param, column in (("minRam", Image.min_ram), ("minDisk", Image.min_disk)):
                if param in query:
                    if not query[param].isdigit():
                        raise BadRequest(f"Invalid {param} filter: {query[param]}")
                    stmt = stmt.where(column >= int(query[param]))
            rows = list(session.scalars(stmt.order_by(Image.created_at.desc(), Image.id.desc())))
        for param, prop in PROPERTY_FILTERS.items():
            if param in query:
                # A server may be given as its URL: the id is the last segment.
                wanted = query[param].rstrip("/").rsplit("/", 1)[-1] if param == "server" else query[param]
                rows = [r for r in rows if (r.properties or {}).get(prop) == wanted]
        try:
            shown, _ = page(rows, query, limit)
        except NotFound:
            raise BadRequest(f"marker [{query.get('marker')}] not found") from None
        return shown, bool(limit) and len(shown) == limit

    def delete(self, ctx: Context, image_id: str) -> None:
        with self.images.db.write() as session:
            image = self._get(session, ctx, image_id)
            self.images.delete(session, ctx, image)
        # The data goes after the row, as the image API's own delete does.
        self.images.store.delete(image_id)
        self.images.staging.delete(image_id)

    # -- metadata: the image's custom properties ------------------------------------------------
    def metadata(self, ctx: Context, image_id: str) -> dict:
        return metadata(self.get(ctx, image_id))

    def change_metadata(self, ctx: Context, image_id: str, setting: dict, *, replace_all: bool = False,
                        removing: str | None = None, limit: int | None = None) -> dict:
        """Set ``setting`` (after dropping every other property if ``replace_all``) or remove one key,
        through the image service's patch (its ownership and property rules)."""
        with self.images.db.write() as session:
            image = self._get(session, ctx, image_id)
            current = metadata(image)
            if removing is not None and removing not in current:
                raise NotFound(f"Image metadata key {removing} not found.")
            kept = {} if replace_all else current
            after = {**kept, **setting}
            if removing is not None:
                after.pop(removing)
            if limit is not None and limit >= 0 and len(after) > limit:
                raise Forbidden("Image metadata limit exceeded")
            changes = [{"op": "remove", "path": f"/{k}"} for k in current if k not in after]
            changes += [{"op": "add", "path": f"/{k}", "value": v} for k, v in setting.items()]
            self.images.patch(session, ctx, image, changes)
            session.flush()
            return metadata(image)

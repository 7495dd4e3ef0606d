"""Nova's ``/images`` over the image service: Glance images through Nova's list filters, shown, deleted and
their custom properties changed as ``metadata``, always as the caller, so Glance's visibility and
ownership rules are the ones applied (the views are ``views.proxied_image*``)."""

from __future__ import annotations

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.listing import count_param, page
from onestack.http.times import parse_time
from onestack.services.image.public import ImageInfo, Images

# Nova's filters that are image properties (a snapshot records its server and its type).
PROPERTY_FILTERS = {"server": "instance_uuid", "type": "image_type"}


class ImageProxy:
    def __init__(self, images: Images):
        self.images = images

    def get(self, ctx: Context, image_id: str) -> ImageInfo:
        try:
            return self.images.image(ctx, image_id)
        except NotFound:
            raise NotFound("Image not found.") from None

    def list(self, ctx: Context, query, limit: int | None) -> tuple[list[ImageInfo], bool]:
        """The images Glance would list for the caller, through Nova's filters, newest first; and whether
        the page is full (Nova then links to the next one)."""
        wanted = {}
        for param, key in (("minRam", "min_ram"), ("minDisk", "min_disk")):
            if param in query:
                wanted[key] = count_param(query[param], f"Invalid {param} filter: {query[param]}")
        rows = self.images.images(
            ctx, name=query.get("name"), status=query["status"].lower() if "status" in query else None,
            changed_since=parse_time(query["changes-since"], "changes-since") if "changes-since" in query else None,
            **wanted)
        for param, prop in PROPERTY_FILTERS.items():
            if param in query:
                # A server may be given as its URL: the id is the last segment.
                wanted_value = query[param].rstrip("/").rsplit("/", 1)[-1] if param == "server" else query[param]
                rows = [r for r in rows if r.properties.get(prop) == wanted_value]
        try:
            shown, _ = page(rows, query, limit)
        except NotFound:
            raise BadRequest(f"marker [{query.get('marker')}] not found") from None
        return shown, bool(limit) and len(shown) == limit

    def delete(self, ctx: Context, image_id: str) -> None:
        self.get(ctx, image_id)
        self.images.delete(ctx, image_id)

    # -- metadata: the image's custom properties ------------------------------------------------
    def metadata(self, ctx: Context, image_id: str) -> dict:
        return self.get(ctx, image_id).properties

    def change_metadata(self, ctx: Context, image_id: str, setting: dict, *, replace_all: bool = False,
                        removing: str | None = None, limit: int | None = None) -> dict:
        """Set ``setting`` (after dropping every other property if ``replace_all``) or remove one key,
        through the image service's patch (its ownership and property rules)."""
        current = self.metadata(ctx, image_id)
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
        return self.images.update_properties(ctx, image_id, changes).properties

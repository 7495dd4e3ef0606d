"""Image rules: who sees what, status transitions, and data that is durable before it is active.

``ImageService`` (``runtime.image``) owns every transaction of the image API; its session-level rules
(``get``, ``visible_to``, ``patch``, ``delete``, ``begin_upload``...) are the ones the compute service's
image proxy and snapshots use inside their own transactions.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.drivers.rbdimages import RBDImages
from onestack.drivers.volumerbd import Ceph, CephError
from onestack.http.context import Context
from onestack.http.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from onestack.http.jsonbody import validate
from onestack.http.listing import COUNT, STRING, apply_sort, count_param, query_parameters, seek, sort_params
from onestack.http.shapes import BOOLEAN
from onestack.http.times import time_filters
from onestack.services.image import schemas
from onestack.services.image.models import Image, ImageMember, ImageTask
from onestack.services.image.policies import RULES, authorize
from onestack.services.image.service import conversion
from onestack.services.image.service.files import FileStore, Written
from onestack.services.image.service.imports import (
    FAILED,
    IMPORTING,
    LOCK,
    STAGE_HOST,
    Importer,
    fail_import,
    finish_task,
    set_properties,
)
from onestack.services.image.service.inspect import inspect
from onestack.services.image.service.metadefs import Metadefs
from onestack.services.image.service.quotas import LimitLookup, Quotas
from onestack.services.image.service.swift import ID_LENGTH, SwiftImages, SwiftStoreError
from onestack.services.image.service.webdownload import check as check_uri
from onestack.services.image.views import RBD_LOCATION, STORES, stores_of

LOG = logging.getLogger("onestack.image")
SORTABLE = {k: k for k in ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
                           "updated_at", "visibility", "owner", "min_disk", "min_ram")}
TASK_SORTABLE = {k: k for k in ("id", "type", "status", "created_at", "updated_at")}
# the list's own filters, paging and sorting; any other query parameter names a custom property
LIST_PARAMETERS = frozenset(("name", "status", "owner", "disk_format", "container_format", "id", "protected",
                             "os_hidden", "size_min", "size_max", "created_at", "updated_at", "visibility",
                             "member_status", "limit", "marker", "sort_key", "sort_dir", "sort", "tag"))
# the list's query string as the OpenAPI description publishes it: every parameter above, Glance's two sort
# forms over ``SORTABLE``, the booleans and counts typed
LIST_QUERY = {
    **query_parameters(sorted(LIST_PARAMETERS - {"limit", "marker", "sort_key", "sort_dir", "sort"}),
                       sort_keys=SORTABLE, size_min=COUNT, size_max=COUNT, protected=BOOLEAN, os_hidden=BOOLEAN,
                       tag={"type": "array", "items": STRING}),
    "sort": query_parameters(sort_keys=SORTABLE, sort="glance", paging=())["sort"]}


class ImageService:
    def __init__(self, db: Database, settings: Settings, limits: LimitLookup):
        self.db = db
        self.store = FileStore(settings.image_store)
        # Staged data (glance-direct) waits in its own area, written with the same durable mechanics.
        self.staging = FileStore(settings.data_dir / "staging")
        self.quotas = Quotas(limits)
        self.import_rules = settings.image_import
        self.stage_host = settings.base_url
        # With a Ceph cluster, raw images are also kept in its images pool, for RBD volumes to clone.
        self.rbd = None
        if settings.ceph.conf and settings.ceph.image_store:
            ceph = settings.ceph
            self.rbd = RBDImages(Ceph(ceph.conf, ceph.client, ceph.keyring, ceph.timeout), ceph.pools["images"])
        # ...or only there (ceph.image_store_only): their files go once the RBD copy is made
        self.rbd_only = self.rbd is not None and settings.ceph.image_store_only
        # Glance's swift store, when enabled: image data as objects of this cloud's Object Storage.
        self.swift: SwiftImages | None = None
        if settings.image_swift_store.enabled:
            self.swift = SwiftImages(f"{settings.base_url}/identity", settings.region, settings.image_swift_store)
        # images whose data this process is putting into the swift store (the sweep leaves them alone)
        self._placing: set[str] = set()
        self._placing_lock = threading.Lock()
        # the sweep removes only what was written before this process started: an upload of another process
        # (a worker, started later) is newer
        self.started = time.time()
        self._fetch_lock = threading.Lock()
        self.importer = Importer(db, self.store, self.staging, self.quotas, settings.image_import,
                                 on_active=self.copy_to_rbd, place=self.place, placed=self.placed,
                                 copy=self.copy_between_stores)
        self.metadefs = Metadefs(db)

    # -- visibility ------------------------------------------------------------
    @staticmethod
    def member_of(session: Session, ctx: Context, image: Image) -> ImageMember | None:
        if image.visibility != "shared" or not ctx.project_id:
            return None
        return session.get(ImageMember, (image.id, ctx.project_id))

    def can_see(self, session: Session, ctx: Context, image: Image) -> bool:
        """Owners, admins, everyone for public and community images, and the projects a shared image is
        offered to (whatever they answered: Glance lets a member look before accepting)."""
        target = {"project_id": image.owner, "visibility": image.visibility}
        return RULES["get_image"](ctx, target) or self.member_of(session, ctx, image) is not None

    def get(self, session: Session, ctx: Context, image_id: str) -> Image:
        image = session.get(Image, image_id)
        if image is None or not self.can_see(session, ctx, image):
            # Glance says 404, not 403, so that an image's existence does not leak across projects.
            raise NotFound(f"No image found with ID {image_id}")
        return image

    @staticmethod
    def visible_to(ctx: Context, visibility: str | None, member_status: str = "accepted"):
        """The SQL condition for the images a list shows by default or for one visibility."""
        if ctx.is_admin:
            return Image.visibility == visibility if visibility else true()
        own = Image.owner == ctx.project_id
        offered = select(ImageMember.image_id).where(ImageMember.member == ctx.project_id)
        if member_status != "all":
            offered = offered.where(ImageMember.status == member_status)
        shared_with_me = (Image.visibility == "shared") & Image.id.in_(offered)
        if visibility in ("public", "community"):
            return Image.visibility == visibility
        if visibility == "private":
            return (Image.visibility == "private") & own
        if visibility == "shared":
            return ((Image.visibility == "shared") & own) | shared_with_me
        return or_(Image.visibility == "public", own, shared_with_me)

    # -- changes -----------------------------------------------------------------
    @staticmethod
    def check_visibility(ctx: Context, visibility: str, image: Image | None = None) -> None:
        if visibility == "public":
            authorize(ctx, "publicize_image", image)
        elif visibility == "community":
            authorize(ctx, "communitize_image", image)

    def create(self, session: Session, ctx: Context, body: dict) -> Image:
        read_only = sorted(k for k in body if k in schemas.READ_ONLY or k.startswith(schemas.RESERVED_PREFIX))
        if read_only:
            raise Forbidden(f"Attribute '{read_only[0]}' is read-only.")
        owner = body.get("owner") or ctx.project_id
        if owner != ctx.project_id and not ctx.is_admin:
            raise Forbidden("You are not permitted to create images owned by another project.")
        image = Image(id=body.get("id") or str(uuid.uuid4()), owner=owner, status="queued",
                      visibility=body.get("visibility", "shared"))
        authorize(ctx, "add_image", image)
        self.check_visibility(ctx, image.visibility, image)
        if session.get(Image, image.id) is not None:
            raise Conflict(f"Image with identifier {image.id} already exists!")
        self.quotas.check_count(session, owner, "image_count_total")
        for key in ("name", "protected", "os_hidden", "disk_format", "container_format", "min_disk", "min_ram"):
            if key in body:
                setattr(image, key, body[key])
        image.tags = list(dict.fromkeys(body.get("tags") or []))
        image.properties = {k: v for k, v in body.items() if k not in schemas.CORE}
        session.add(image)
        session.flush()
        return image

    def patch(self, session: Session, ctx: Context, image: Image, changes: list[dict]) -> None:
        authorize(ctx, "modify_image", image)
        properties = dict(image.properties or {})
        for change in changes:
            op, name = change["op"], change["path"][1:]
            if (name in schemas.READ_ONLY or name == "id" or name.startswith(schemas.RESERVED_PREFIX)
                    or (name == "owner" and not ctx.is_admin)):
                raise Forbidden(f"Attribute '{name}' is read-only.")
            if op != "remove" and "value" not in change:
                raise BadRequest(f"Operation '{op}' on '{name}' needs a value.")
            if name in schemas.CORE:
                self._patch_core(ctx, image, op, name, change.get("value"))
            elif op == "remove":
                if name not in properties:
                    raise Conflict(f"Property {name} does not exist.")
                del properties[name]
            else:
                value = change["value"]
                if not isinstance(value, str) or len(value) > 255:
                    raise BadRequest(f"Property {name} takes a string of at most 255 characters.")
                if op == "replace" and name not in properties:
                    raise Conflict(f"Property {name} does not exist.")
                properties[name] = value
        image.properties = properties

    def _patch_core(self, ctx: Context, image: Image, op: str, name: str, value) -> None:
        if op == "remove":
            raise Forbidden(f"Attribute '{name}' cannot be removed.")
        schema = schemas.CORE[name]
        validate({name: value}, {"type": "object", "properties": {name: schema}})
        if name in ("disk_format", "container_format") and image.status != "queued":
            raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        if name == "visibility":
            self.check_visibility(ctx, value, image)
        if name == "tags":
            value = list(dict.fromkeys(value))
        setattr(image, name, value)

    # -- members -----------------------------------------------------------------
    @staticmethod
    def _members(session: Session, ctx: Context, image: Image) -> list[ImageMember]:
        """The owner sees every member; a member sees only itself."""
        rows = session.scalars(select(ImageMember).where(ImageMember.image_id == image.id)
                               .order_by(ImageMember.created_at)).all()
        if RULES["modify_image"](ctx, {"project_id": image.owner}) or ctx.is_admin:
            return list(rows)
        return [m for m in rows if m.member == ctx.project_id]

    def _member(self, session: Session, ctx: Context, image: Image, member: str) -> ImageMember:
        found = [m for m in self._members(session, ctx, image) if m.member == member]
        if not found:
            raise NotFound(f"{member} is not a member of image {image.id}.")
        return found[0]

    def add_member(self, ctx: Context, image_id: str, member: str) -> ImageMember:
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            authorize(ctx, "modify_image", image)
            if image.visibility != "shared":
                raise Forbidden(f"Only shared images have members; image {image.id} is {image.visibility}.")
            if session.get(ImageMember, (image.id, member)) is not None:
                raise Conflict(f"Member {member} already exists for image {image.id}.")
            if len(session.scalars(select(ImageMember.member).where(ImageMember.image_id == image.id)).all()) >= \
                    schemas.MAX_MEMBERS:
                raise PayloadTooLarge(f"An image has at most {schemas.MAX_MEMBERS} members.")
            row = ImageMember(image_id=image.id, member=member, status="pending")
            session.add(row)
            session.flush()
            return row

    def members(self, ctx: Context, image_id: str) -> list[ImageMember]:
        with self.db.read() as session:
            return self._members(session, ctx, self.get(session, ctx, image_id))

    def member(self, ctx: Context, image_id: str, member: str) -> ImageMember:
        with self.db.read() as session:
            return self._member(session, ctx, self.get(session, ctx, image_id), member)

    def answer(self, ctx: Context, image_id: str, member: str, status: str) -> ImageMember:
        with self.db.write() as session:
            row = self._member(session, ctx, self.get(session, ctx, image_id), member)
            if ctx.project_id != member:
                raise Forbidden("Only the member itself may accept or reject a shared image.")
            row.status = status
            session.flush()
            return row

    def remove_member(self, ctx: Context, image_id: str, member: str) -> None:
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            authorize(ctx, "modify_image", image)
            row = session.get(ImageMember, (image.id, member))
            if row is None:
                raise NotFound(f"{member} is not a member of image {image.id}.")
            session.delete(row)

    def delete(self, session: Session, ctx: Context, image: Image) -> None:
        authorize(ctx, "delete_image", image)
        if image.protected:
            raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
        session.delete(image)

    def check_rbd_clones(self, ctx: Context, image_id: str) -> None:
        """Before a delete, outside any transaction (a call to the cluster may take a while): an image whose
        RBD copy has clones cannot go, as Glance's RBD store refuses (the volumes made from it are its
        copy-on-write clones)."""
        if self.rbd is None:
            return
        with self.db.read() as session:
            image = self.get(session, ctx, image_id)
            authorize(ctx, "delete_image", image)  # a caller who may not delete hears that first
            if not (image.properties or {}).get(RBD_LOCATION):
                return
        try:
            clones = self.rbd.clones(image_id)
        except CephError as exc:
            raise Conflict(f"Image {image_id} cannot be deleted now: its RBD copy cannot be checked ({exc}).") \
                from None
        if clones:
            raise Conflict(f"Image {image_id} is in use by {len(clones)} RBD clones and cannot be deleted.")

    def delete_rbd_copy(self, image_id: str) -> None:
        """The image's RBD copy, after its row went (a clone made in between keeps it, reported)."""
        if self.rbd is None:
            return
        try:
            self.rbd.delete(image_id)
        except CephError as exc:
            LOG.warning("image %s: its RBD copy stays: %s", image_id, exc)

    def copy_to_rbd(self, image_id: str, asked: bool = False) -> None:
        """An active raw image's data also into the images pool, as ``<id>@snap`` (Glance's RBD layout);
        a failure leaves the image in the file store alone, as it was, and when the ``rbd`` store was
        ``asked`` for, says so in ``os_glance_failed_import`` (as Glance's multi-store import with
        ``allow_failure``)."""
        if self.rbd is None:
            return
        try:
            self._copy_to_rbd(image_id)
        except CephError as exc:
            LOG.warning("image %s stays in the file store only: %s", image_id, exc)
            if asked:
                with self.db.write() as session:
                    image = session.get(Image, image_id)
                    if image is not None:
                        set_properties(image, **{FAILED: "rbd"})

    def _copy_to_rbd(self, image_id: str, fetched: bool = False) -> None:
        """``fetched``: the file store holds a fetched copy of an image its stores do not name (copy-image
        of an image only in swift)."""
        assert self.rbd is not None
        with self.db.read() as session:
            image = session.get(Image, image_id)
            if image is None or image.status != "active" or image.disk_format != "raw" or \
                    not (fetched or "file" in stores_of(image)):
                return
        self.rbd.put(image_id, self.store.path(image_id))
        only_there = False
        with self.db.write() as session:
            image = session.get(Image, image_id)
            if image is not None:
                set_properties(image, **{RBD_LOCATION: self.rbd.location(image_id)})
                if self.rbd_only:
                    # the other stores but the file one; none left: the cluster alone holds the data
                    others = [name for name in stores_of(image) if name != "file"]
                    set_properties(image, **{STORES: ",".join(others or ["rbd"])})
                    only_there = True
        if image is None:
            self.delete_rbd_copy(image_id)
        elif only_there:
            # after the row no longer names it (a crash in between: the start-up sweep removes the file)
            self.store.delete(image_id)

    # -- stores ----------------------------------------------------------------------
    def store_names(self) -> list[str]:
        """The stores data may be put in (``/v2/info/stores`` lists them, with ``rbd`` when it is on)."""
        return ["file", "swift"] if self.swift is not None else ["file"]

    def choosable_stores(self) -> list[str]:
        """The stores a request may name: those above and ``rbd`` (raw images only: its copy is for clones;
        the file store keeps such an image too, and is where it is read from)."""
        return self.store_names() + (["rbd"] if self.rbd is not None else [])

    def _raw_for_rbd(self, disk_format: str | None, converted: bool = False) -> bool:
        """Whether the data will be raw, as the rbd store keeps them: raw already, or (``converted``: an
        import) made raw by the image_conversion step."""
        return disk_format == "raw" or (converted and conversion.wanted(self.import_rules, disk_format)
                                        and self.import_rules.conversion_format == "raw")

    def _check_rbd_wanted(self, disk_format: str | None, converted: bool = False) -> None:
        if not self._raw_for_rbd(disk_format, converted):
            raise BadRequest("The rbd store keeps raw images only (image_import.plugins: [image_conversion] "
                             "converts an imported image to raw).")

    def place(self, image_id: str, stores: list[str]) -> None:
        """Before an image is published: its whole, inspected file also into the other stores asked for."""
        if "swift" not in stores:
            return
        if self.swift is None:
            raise SwiftStoreError("the swift store is not enabled")
        with self._placing_lock:
            self._placing.add(image_id)
        self.swift.put(image_id, self.store.path(image_id))

    def placed(self, image_id: str, stores: list[str] | None) -> None:
        """After the row said where the data is (``stores``; None: it did not): the file goes when the file
        store is not among them."""
        with self._placing_lock:
            self._placing.discard(image_id)
        if stores is not None and "file" not in stores:
            self.store.delete(image_id)

    def delete_swift_copy(self, image_id: str) -> None:
        """The image's objects, after its row went; a failure is left to the next sweep."""
        if self.swift is None:
            return
        try:
            self.swift.delete(image_id)
        except SwiftStoreError as exc:
            LOG.warning("image %s: its objects in the swift store stay until the next sweep: %s", image_id, exc)

    def copy_between_stores(self, image_id: str, stores: list[str]) -> list[str]:
        """copy-image's work: the active image's data into ``stores`` from a store that holds it; returns
        every store that holds it now. A failure leaves the image as it was."""
        with self.db.read() as session:
            image = session.get(Image, image_id)
            held = stores_of(image) if image is not None else []
        if not held:
            raise NotFound(f"Image {image_id} was deleted during the copy.")
        wrote_file = False
        try:
            if "file" in stores and "file" not in held:
                self.store.write(image_id, self._read_elsewhere(image_id, held), 1 << 62)
                wrote_file = True
            if "swift" in stores and "swift" not in held:
                self.place(image_id, ["swift"])
            if "rbd" in stores:
                # from the file store (fetched there first for an image only in swift, as guests' disks are)
                if self.rbd is None or self.local_copy(image_id) is None:
                    raise RuntimeError("the image's data cannot be read here to copy into the rbd store")
                self._copy_to_rbd(image_id, fetched=True)
        except BaseException:
            if wrote_file:
                self.store.delete(image_id)
            raise
        # the rbd copy is recorded apart (its location), not among these stores
        return [name for name in self.store_names() if name in held or name in stores]

    def local_copy(self, image_id: str) -> Path | None:
        """Where the image's data is on this machine (compute builds guests from files): the file store's
        file, or, for an image only in the swift store or only in the cluster (``ceph.image_store_only``), a
        copy fetched into the file store first (durably, as any write there). The copy is a cache: its image's stores do not name ``file``, so the next start
        removes it (a guest keeps its own base copy of the image)."""
        path = self.store.path(image_id)
        if path.exists() or (self.swift is None and not self.rbd_only):
            return path if path.exists() else None
        with self._fetch_lock:  # one fetch at a time: two would share the partial file
            if path.exists():
                return path
            with self.db.read() as session:
                image = session.get(Image, image_id)
                if image is None or image.status not in ("active", "deactivated") or "file" in stores_of(image):
                    return None
                held = stores_of(image)
            try:
                self.store.write(image_id, self._read_elsewhere(image_id, held), 1 << 62)
            except (SwiftStoreError, CephError, ServiceUnavailable, OSError) as exc:
                LOG.warning("image %s could not be fetched from the %s store: %s", image_id, held[0], exc)
                return None
        return path

    def _read_elsewhere(self, image_id: str, held: list[str], start: int = 0,
                        end: int | None = None) -> Iterator[bytes]:
        """The image's data from the swift store, or the cluster when it holds them alone."""
        if "swift" in held:
            if self.swift is None:
                raise ServiceUnavailable(f"Image {image_id} is in the swift store, which is not enabled.")
            return self.swift.read(image_id, start, end)
        if "rbd" in held and self.rbd is not None:
            return self.rbd.read(image_id, start, end)
        raise ServiceUnavailable(f"Image {image_id} is in the {held[0]} store, which is not enabled.")

    def start(self) -> None:
        """Background work at start-up: the swift store's sweep, once Object Storage answers."""
        if self.swift is not None:
            threading.Thread(target=self._sweep_swift, name="image-swift-sweep", daemon=True).start()

    def _sweep_swift(self, attempts: int = 60) -> None:
        """Remove the objects of images the swift store does not hold by their rows (a cut upload or copy,
        a delete that could not finish). The server may still be starting: it is tried again for a while."""
        for _ in range(attempts):
            try:
                self.sweep_swift()
                return
            except SwiftStoreError as exc:
                LOG.info("the swift store's sweep waits for Object Storage: %s", exc)
                time.sleep(2.0)
        LOG.error("the swift store's sweep gave up: Object Storage did not answer")

    def sweep_swift(self) -> list[str]:
        assert self.swift is not None
        listed = self.swift.listing()  # listed before the rows are read: a later upload is not in it
        with self.db.read() as session:
            keep = {image.id for image in session.scalars(select(Image).where(
                Image.status.in_(("active", "deactivated")))) if "swift" in stores_of(image)}
        with self._placing_lock:
            keep |= self._placing
        # an image with any object written since this process started is being written now: left alone
        keep |= {name[:ID_LENGTH] for name, written in listed if written >= self.started - 1.0}
        gone = sorted({name[:ID_LENGTH] for name, _ in listed} - keep)
        for image_id in gone:
            LOG.info("removed leftover objects of image %s from the swift store", image_id)
            self.swift.delete(image_id)
        return gone

    # -- the image API's transactions ---------------------------------------------
    def create_image(self, ctx: Context, body: dict) -> Image:
        with self.db.write() as session:
            return self.create(session, ctx, body)

    def list_images(self, ctx: Context, query, visibility: str | None, member_status: str,
                    limit: int | None = None) -> list[Image]:
        """The images the caller may see, through Glance's filters (``visibility`` None: the default list),
        in the order the query asks, newest first by default; paging is the caller's."""
        q = query
        stmt = select(Image).where(self.visible_to(ctx, visibility, member_status))
        for key in ("name", "status", "owner", "disk_format", "container_format", "id"):
            if key in q:
                stmt = stmt.where(getattr(Image, key) == q[key])
        for key in ("protected", "os_hidden"):
            if key in q:
                stmt = stmt.where(getattr(Image, key) == (q[key].lower() == "true"))
        if "os_hidden" not in q:
            stmt = stmt.where(Image.os_hidden.is_(False))
        for key, op in (("size_min", "__ge__"), ("size_max", "__le__")):
            if key in q:
                stmt = stmt.where(getattr(Image.size, op)(count_param(q[key], f"{key} must be a non-negative integer.")))
        for key in ("created_at", "updated_at"):
            if key in q:
                for op, moment in time_filters(q[key], key):
                    stmt = stmt.where(op(getattr(Image, key), moment))
        sort = sort_params(q)
        stmt = apply_sort(stmt, Image, *sort, SORTABLE, default="created_at", default_dir="desc")
        wanted_tags = q.getlist("tag")
        in_sql = (limit is not None and not wanted_tags and sort == ([], [])
                  and not any(k not in LIST_PARAMETERS for k in q.keys()))
        with self.db.read() as session:
            if in_sql:
                # Default order, every filter in SQL: read the marker row and the limit + 1 rows after it
                # (a seek on created_at, id), not the whole table; the caller's paging cuts the same page.
                return seek(session, stmt, Image, [(Image.created_at, "desc"), (Image.id, "asc")],
                            q.get("marker"), limit)
            rows = session.scalars(stmt).all()
        rows = [r for r in rows if all(t in (r.tags or []) for t in wanted_tags)]
        # any other parameter filters on a custom property, as in Glance (Nova finds a server's backups so)
        wanted = {k: v for k, v in q.items() if k not in LIST_PARAMETERS}
        return [r for r in rows if all((r.properties or {}).get(k) == v for k, v in wanted.items())]

    def show_image(self, ctx: Context, image_id: str) -> Image:
        with self.db.read() as session:
            return self.get(session, ctx, image_id)

    def update_image(self, ctx: Context, image_id: str, changes) -> Image:
        """Apply a JSON patch (Glance's 2.1 dialect) to the image."""
        validate(changes, schemas.json_patch)
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            self.patch(session, ctx, image, changes)
            session.flush()
            return image

    def delete_image(self, ctx: Context, image_id: str) -> None:
        """The row, then the data (and any staged data)."""
        self.check_rbd_clones(ctx, image_id)
        with self.db.write() as session:
            self.delete(session, ctx, self.get(session, ctx, image_id))
        self.store.delete(image_id)
        self.staging.delete(image_id)
        self.delete_rbd_copy(image_id)
        self.delete_swift_copy(image_id)

    def delete_from_store(self, ctx: Context, store: str, image_id: str) -> None:
        """``DELETE /v2/stores/{store}/{image_id}`` (Glance's API 2.10): the image's data go from one of the
        stores that hold them, as Glance checks it: a store this cloud has, an active image the caller may
        drop a location of, and another store left holding it (the last is refused: deleting the image is the
        way).  The row first, then the data (a crash between them: the start-up sweep removes a file no row
        names)."""
        if store not in self.choosable_stores():
            raise Conflict(f"The selected store {store} is not available on this node.")
        if store == "rbd":  # its clones are asked of the cluster outside any transaction, once the rest allows it
            with self.db.read() as session:
                self._check_store_drop(ctx, self.get(session, ctx, image_id), store)
            self.check_rbd_clones(ctx, image_id)
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            held = self._check_store_drop(ctx, image, store)
            set_properties(image, **{STORES: ",".join(name for name in held if name != store)},
                           **({RBD_LOCATION: None} if store == "rbd" else {}))
        if store == "file":
            self.store.delete(image_id)
        elif store == "swift":
            self.delete_swift_copy(image_id)
        else:
            self.delete_rbd_copy(image_id)

    @staticmethod
    def _check_store_drop(ctx: Context, image: Image, store: str) -> list[str]:
        """The stores holding ``image``, once dropping ``store`` of them is allowed."""
        authorize(ctx, "delete_image_location", image)
        if image.status != "active":
            raise Conflict("It's not allowed to remove image data from store if image status is not 'active'")
        if LOCK in (image.properties or {}):  # a copy-image reads from the stores that hold the image
            raise Conflict(f"Image {image.id} is being copied between stores; try again once that is done.")
        held = stores_of(image)
        if len(held) == 1:
            raise Forbidden("Cannot delete image data from the only store containing it. Consider deleting "
                            "the image instead.")
        if store not in held:
            raise NotFound(f"Image {image.id} is not stored in store {store}.")
        return held

    def _change_tags(self, ctx: Context, image_id: str, change: Callable[[list], list]) -> None:
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            authorize(ctx, "modify_image", image)
            image.tags = change(list(image.tags or []))

    def add_tag(self, ctx: Context, image_id: str, tag: str) -> None:
        if len(tag) > 255:
            raise BadRequest("A tag is at most 255 characters.")

        def add(tags: list) -> list:
            if tag not in tags and len(tags) >= schemas.MAX_TAGS:
                raise Forbidden(f"An image has at most {schemas.MAX_TAGS} tags.")
            return tags if tag in tags else [*tags, tag]

        self._change_tags(ctx, image_id, add)

    def remove_tag(self, ctx: Context, image_id: str, tag: str) -> None:
        def remove(tags: list) -> list:
            if tag not in tags:
                raise NotFound(f"Tag {tag} not found.")
            return [t for t in tags if t != tag]

        self._change_tags(ctx, image_id, remove)

    def change_status(self, ctx: Context, image_id: str, action: str, source: str, target: str) -> None:
        """Deactivate or reactivate: ``source`` -> ``target`` (a repeat is no error)."""
        with self.db.write() as session:
            image = self.get(session, ctx, image_id)
            authorize(ctx, action, image)
            if image.status not in (source, target):
                raise BadRequest(f"Not allowed to {action} an image in status '{image.status}'.")
            image.status = target

    def usage(self, project_id: str) -> dict:
        """The project against its image quotas (Glance's /v2/info/usage)."""
        with self.db.read() as session:
            return self.quotas.report(session, project_id)

    def upload(self, ctx: Context, image_id: str, chunks: Iterable[bytes], store: str | None = None) -> None:
        """PUT /file: claim the image, write the data durably, inspect it, put it in the store asked for
        (``X-Image-Meta-Store``), publish it."""
        target = store or "file"
        if target not in self.choosable_stores():
            raise BadRequest(f"Store for identifier {target} not found")
        with self.db.write() as session:
            image, allowed = self.begin_upload(session, ctx, image_id)
            disk_format = image.disk_format
            if target == "rbd":
                self._check_rbd_wanted(disk_format)
        written = _receive(self.store, image_id, chunks, allowed, self.abort_upload)
        self.finish_upload(image_id, disk_format, written, ["file" if target == "rbd" else target])
        self.copy_to_rbd(image_id, asked=target == "rbd")

    def stage(self, ctx: Context, image_id: str, chunks: Iterable[bytes]) -> None:
        """glance-direct's first half: the data waits in the staging area until the import is asked for."""
        with self.db.write() as session:
            allowed = self.begin_stage(session, ctx, image_id)
        self.finish_stage(image_id, _receive(self.staging, image_id, chunks, allowed, self.abort_stage))

    def readable_data(self, ctx: Context, image_id: str) -> Image:
        """The image whose data the caller asks for: whoever may see it (its members included) may download
        it, except that only admins read a deactivated image."""
        with self.db.read() as session:
            image = self.get(session, ctx, image_id)
        if image.status == "deactivated" and not ctx.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
        return image

    def read_data(self, image: Image, start: int, end: int) -> Iterator[bytes]:
        if "file" in stores_of(image):
            return self.store.read(image.id, start, end)
        return self._read_elsewhere(image.id, stores_of(image), start, end)

    def import_image(self, ctx: Context, image_id: str, body: dict, request_id: str | None,
                     store: str | None = None) -> None:
        with self.db.write() as session:
            task = self.start_import(session, ctx, image_id, body, request_id, store)
        if task is not None:
            self.importer.submit(task.id)

    def create_import_task(self, ctx: Context, given: dict, request_id: str | None) -> ImageTask:
        """Glance's older ``import`` task: an image made from ``image_properties`` and filled from a URL,
        which is today's web-download under another name (a URL the filters refuse is a 400 at once)."""
        with self.db.write() as session:
            image = self.create(session, ctx, dict(given["image_properties"]))
            task = self.start_import(session, ctx, image.id, {"method": {"name": "web-download",
                                                                         "uri": given["import_from"]}}, request_id)
            task.type, task.input = "import", given
            session.flush()
        self.importer.submit(task.id)
        return task

    def list_tasks(self, query) -> list[ImageTask]:
        """Every task (an admin's view), filtered by type and status, in the query's order."""
        stmt = select(ImageTask)
        for key in ("type", "status"):
            if key in query:
                stmt = stmt.where(getattr(ImageTask, key) == query[key])
        stmt = apply_sort(stmt, ImageTask, *sort_params(query), TASK_SORTABLE, default="created_at",
                          default_dir="desc")
        with self.db.read() as session:
            return list(session.scalars(stmt).all())

    # -- data --------------------------------------------------------------------
    def begin_upload(self, session: Session, ctx: Context, image_id: str) -> tuple[Image, int]:
        """Claim a queued image for upload; returns it and how many bytes it may take."""
        image = self.get(session, ctx, image_id)
        authorize(ctx, "upload_image", image)
        self.quotas.check_count(session, image.owner, "image_count_uploading")
        left = self.quotas.bytes_left(session, image.owner)
        if image.disk_format is None or image.container_format is None:
            raise BadRequest("Properties disk_format and container_format must be set prior to saving data.")
        claimed = session.execute(update(Image).where(Image.id == image_id, Image.status == "queued")
                                  .values(status="saving"))
        if claimed.rowcount != 1:
            raise Conflict(f"Image status transition from {image.status} to saving is not allowed")
        return image, left

    def finish_upload(self, image_id: str, disk_format: str | None, written, stores: list[str] | None = None) -> None:
        """Inspect the stored data, put it in its stores, then publish it; on any refusal the data goes and
        the image is queued."""
        stores = stores or ["file"]
        try:
            virtual_size = inspect(self.store.path(image_id), disk_format)
        except BadRequest:
            self.abort_upload(image_id)
            raise
        published = None
        try:
            self.place(image_id, stores)
            with self.db.write() as session:
                image = session.get(Image, image_id)
                if image is None:  # deleted while its data was arriving
                    self.store.delete(image_id)
                    self.delete_swift_copy(image_id)
                    raise NotFound(f"Image {image_id} was deleted during the upload.")
                image.publish(written.size, written.md5, written.sha512, virtual_size)
                if stores != ["file"]:
                    set_properties(image, **{STORES: ",".join(stores)})
            published = stores
        except BaseException as exc:
            # nothing of a refused or failed publication stays: the file, the objects, the claim
            self.abort_upload(image_id)
            if "swift" in stores:
                self.delete_swift_copy(image_id)
            if isinstance(exc, SwiftStoreError):
                raise ServiceUnavailable(f"Image {image_id} could not be stored in the swift store: {exc}") \
                    from None
            raise
        finally:
            self.placed(image_id, published)

    def abort_upload(self, image_id: str) -> None:
        self.store.delete(image_id)
        with self.db.write() as session:
            session.execute(update(Image).where(Image.id == image_id, Image.status == "saving")
                            .values(status="queued"))

    # -- interoperable import ------------------------------------------------------
    def begin_stage(self, session: Session, ctx: Context, image_id: str) -> int:
        """Claim a queued image for staging (queued -> uploading); returns how many bytes it may take."""
        image = self.get(session, ctx, image_id)
        authorize(ctx, "modify_image", image)
        self.quotas.check_count(session, image.owner, "image_count_uploading")
        left = self.quotas.bytes_left(session, image.owner, "image_stage_total")
        claimed = session.execute(update(Image).where(Image.id == image_id, Image.status == "queued")
                                  .values(status="uploading"))
        if claimed.rowcount != 1:
            raise Conflict(f"Image status transition from {image.status} to uploading is not allowed")
        return left

    def finish_stage(self, image_id: str, written: Written) -> None:
        with self.db.write() as session:
            image = session.get(Image, image_id)
            if image is None:
                self.staging.delete(image_id)
                raise NotFound(f"Image {image_id} was deleted while its data was staged.")
            image.size = written.size
            set_properties(image, **{STAGE_HOST: self.stage_host})

    def abort_stage(self, image_id: str) -> None:
        self.staging.delete(image_id)
        with self.db.write() as session:
            session.execute(update(Image).where(Image.id == image_id, Image.status == "uploading")
                            .values(status="queued", size=None))

    def start_import(self, session: Session, ctx: Context, image_id: str, body: dict,
                     request_id: str | None, store: str | None = None) -> ImageTask | None:
        """Check the request as Glance does and lock the image for one import task (None: nothing to do)."""
        method = body["method"]
        name = method["name"]
        if name not in self.import_rules.enabled_methods:
            raise BadRequest(f"Unknown import method name '{name}'.")
        image = self.get(session, ctx, image_id)
        self.quotas.check_count(session, image.owner, "image_size_total")
        wanted = {"glance-direct": "uploading", "web-download": "queued", "copy-image": "active"}[name]
        if image.status != wanted:
            raise Conflict(f"Image needs to be in '{wanted}' state to use '{name}' method, not '{image.status}'")
        if not image.container_format or not image.disk_format:
            raise Conflict("'container_format' and 'disk_format' need to be set before import")
        authorize(ctx, "copy_image" if name == "copy-image" else "modify_image", image)
        if LOCK in (image.properties or {}):
            raise Conflict(f"New operation on image '{image_id}' is not permitted as prior operation is still "
                           "in progress")
        stores = list(body.get("stores") or ([store] if store else [self.store.name]))
        converted = name != "copy-image"  # an import's data may be converted to raw on the way
        if body.get("all_stores"):
            stores = self.store_names()
            if self.rbd is not None and self._raw_for_rbd(image.disk_format, converted):
                stores.append("rbd")
        unknown = [s for s in stores if s not in self.choosable_stores()]
        if unknown:
            raise Conflict(f"Unknown store(s): {', '.join(unknown)}")
        if "rbd" in stores:
            self._check_rbd_wanted(image.disk_format, converted)
        if name == "copy-image":
            held = stores_of(image) + (["rbd"] if (image.properties or {}).get(RBD_LOCATION) else [])
            missing = [s for s in stores if s not in held]
            if body.get("all_stores") and not missing:
                return None  # every store holds it already: Glance answers 202 and does nothing
            present = [s for s in stores if s in held]
            if present and not body.get("all_stores"):
                raise BadRequest(f"Image is already present at store '{present[0]}'")
            stores = missing
        if name == "web-download":
            if not isinstance(method.get("uri"), str):
                raise BadRequest("The web-download method needs a 'uri'.")
            check_uri(method["uri"], self.import_rules)
        elif name == "glance-direct" and not self.staging.path(image_id).exists():
            raise Conflict("Image needs to be staged before 'glance-direct' method can be used")
        # a copy leaves the image active (readable from the stores that hold it) while it runs, as in Glance
        claimed = session.execute(update(Image).where(Image.id == image_id, Image.status == wanted)
                                  .values(status="active" if name == "copy-image" else "importing"))
        if claimed.rowcount != 1:
            raise Conflict(f"Image {image_id} changed status during the request.")
        task = ImageTask(id=str(uuid.uuid4()), type="api_image_import", status="pending", owner=ctx.project_id,
                         image_id=image_id, user_id=ctx.user_id, request_id=request_id,
                         input={"image_id": image_id, "import_req": body, "backend": stores})
        session.add(task)
        set_properties(image, **{LOCK: task.id, IMPORTING: ",".join(stores), FAILED: "", STAGE_HOST: None})
        return task

    def image_tasks(self, ctx: Context, image_id: str) -> list[ImageTask]:
        with self.db.read() as session:
            image = self.get(session, ctx, image_id)
            stmt = select(ImageTask).where(ImageTask.image_id == image.id).order_by(ImageTask.created_at)
            if not ctx.is_admin:
                stmt = stmt.where(ImageTask.owner == ctx.project_id)
            return list(session.scalars(stmt))

    def task(self, ctx: Context, task_id: str) -> ImageTask:
        with self.db.read() as session:
            authorize(ctx, "tasks_api_access")
            task = session.get(ImageTask, task_id)
            if task is None:
                raise NotFound(f"Task with the given ID {task_id} not found")
            return task

    def reconcile(self) -> None:
        """After a crash no upload or import is running here: partial data goes, interrupted uploads wait for
        data again, interrupted imports fail (a glance-direct image whose staged data is whole goes back to
        ``uploading`` so it can be imported again), and data of images that are not active (gone, or back to
        waiting for data) is removed."""
        for image_id in self.store.discard_partials() + self.staging.discard_partials():
            LOG.info("removed the partial data of image %s", image_id)
        if self.rbd is not None:
            try:
                for image_id in self.rbd.discard_partials():
                    LOG.info("removed the partial RBD copy of image %s", image_id)
            except CephError as exc:
                LOG.error("the Ceph cluster could not be checked at start-up: %s", exc)
        with self.db.write() as session:
            stuck = session.execute(update(Image).where(Image.status == "saving").values(status="queued"))
            if stuck.rowcount:
                LOG.warning("%d interrupted uploads reset to queued", stuck.rowcount)
            for image in session.scalars(select(Image).where(Image.status == "uploading")):
                if not self.staging.path(image.id).exists():
                    LOG.warning("image %s: staging was interrupted, reset to queued", image.id)
                    image.status, image.size = "queued", None
                    set_properties(image, **{STAGE_HOST: None})
            for task in session.scalars(select(ImageTask).where(ImageTask.status.in_(("pending", "processing")))):
                finish_task(task, "failure", "The import was interrupted by a restart of the image service.")
            for image in session.scalars(select(Image).where(Image.status == "importing")):
                staged = self.staging.path(image.id).exists()
                LOG.warning("image %s: interrupted import failed", image.id)
                fail_import(image, self.store.name, "uploading" if staged else "queued")
            for image in session.scalars(select(Image).where(Image.status.in_(("active", "deactivated")))):
                if LOCK in (image.properties or {}):  # a copy-image cut short: the image stays as it was
                    LOG.warning("image %s: interrupted copy failed", image.id)
                    failed = (image.properties or {}).get(IMPORTING) or ""
                    set_properties(image, **{LOCK: None, IMPORTING: "", FAILED: failed})
                if "file" in stores_of(image) and not self.store.path(image.id).exists():
                    LOG.error("image %s lost its data: marked killed", image.id)
                    image.status = "killed"
            published = {image.id for image in session.scalars(select(Image).where(
                Image.status.in_(("active", "deactivated")))) if "file" in stores_of(image)}
            staged_for = set(session.scalars(select(Image.id).where(Image.status == "uploading")))
        # Only a published image owns data in the store: a crash between the data's rename into place and the
        # row's turn to active leaves whole data beside a row now back to queued, whose client was never told
        # the upload succeeded; that data goes, as does data whose row is gone (a crash between deleting the
        # row and the file).
        for store, keep in ((self.store, published), (self.staging, staged_for)):
            for image_id in store.ids():
                if image_id not in keep:
                    LOG.info("removed leftover data of image %s from %s", image_id, store.root.name)
                    store.delete(image_id)


def _receive(store: FileStore, image_id: str, chunks: Iterable[bytes], allowed: int,
             abort: Callable[[str], None]) -> Written:
    try:
        return store.write(image_id, chunks, allowed)
    except BaseException:
        # The client went away or sent too much: the image waits for data again, as in Glance.
        abort(image_id)
        raise

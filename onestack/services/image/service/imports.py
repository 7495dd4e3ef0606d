"""Interoperable import, the part that runs after ``POST /v2/images/{id}/import`` has answered 202.

Each import is a task row (Glance's ``api_image_import``) run in a thread of the process that accepted
it.  The data goes through the store's durable write (partial file, fsync, rename) and the same format
inspection as an upload before the image turns ``active``; on failure the image goes back to ``queued``
and the failure is recorded on the image (``os_glance_failed_import``) and the task, as in Glance.
A process that dies mid-import leaves only a partial file; ``ImageService.reconcile`` settles the rest.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable, Iterator

from onestack.config import ImageImport
from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.services.image.models import Image, ImageTask
from onestack.services.image.service import conversion
from onestack.services.image.service.files import FileStore
from onestack.services.image.service.inspect import inspect
from onestack.services.image.service.quotas import Quotas
from onestack.services.image.service.webdownload import download
from onestack.services.image.views import STORES

LOG = logging.getLogger("onestack.image.import")
TASK_TTL = datetime.timedelta(hours=48)  # Glance's task_time_to_live
LOCK = "os_glance_import_task"
IMPORTING = "os_glance_importing_to_stores"
FAILED = "os_glance_failed_import"
STAGE_HOST = "os_glance_stage_host"


def set_properties(image: Image, **changes: str | None) -> None:
    """Change the image's custom properties (None removes one); a new dict, so the JSON column is saved."""
    properties = dict(image.properties or {})
    for name, value in changes.items():
        if value is None:
            properties.pop(name, None)
        else:
            properties[name] = value
    image.properties = properties


def finish_task(task: ImageTask, status: str, message: str = "", result: dict | None = None) -> None:
    task.status, task.message, task.result = status, message, result
    task.expires_at = utcnow() + TASK_TTL


def fail_import(image: Image, store: str, back_to: str = "queued") -> None:
    """The image as Glance leaves it after a failed import: waiting again, the store marked failed."""
    image.status = back_to
    if back_to == "queued":
        image.size = None
    set_properties(image, **{LOCK: None, IMPORTING: "", FAILED: store})


def requested_method(task: ImageTask) -> dict:
    """The import method a task carries out; a legacy ``import`` task is a web-download of ``import_from``."""
    if task.type == "import":
        return {"name": "web-download", "uri": task.input["import_from"]}
    return task.input["import_req"]["method"]


class Importer:
    def __init__(self, db: Database, store: FileStore, staging: FileStore, quotas: Quotas, rules: ImageImport,
                 on_active: Callable[[str, bool], None] | None = None,
                 place: Callable[[str, list[str]], None] | None = None,
                 placed: Callable[[str, list[str] | None], None] | None = None,
                 copy: Callable[[str, list[str]], list[str]] | None = None):
        self.db = db
        self.store = store
        self.staging = staging
        self.quotas = quotas
        self.rules = rules
        # told when an import made an image active, and whether the rbd store was asked for (the copy into it)
        self.on_active = on_active
        # the other stores (swift): put an inspected file there before publishing, settle after, copy-image
        self.place = place or (lambda image_id, stores: None)
        self.placed = placed or (lambda image_id, stores: None)
        self.copy = copy

    def submit(self, task_id: str) -> None:
        # A daemon thread: stopping the server never waits for a download; reconcile settles what it cut.
        threading.Thread(target=self.run, args=(task_id,), name=f"import-{task_id}", daemon=True).start()

    def run(self, task_id: str) -> None:
        try:
            with self.db.write() as session:
                task = session.get(ImageTask, task_id)
                image = session.get(Image, task.image_id)
                task.status = "processing"
                image_id, owner, disk_format = image.id, image.owner, image.disk_format
                task_disk_format = disk_format
                method = requested_method(task)
                stores = list((task.input or {}).get("backend") or ["file"])
                allowed = self.quotas.bytes_left(session, owner) + (image.size or 0)
        except Exception as exc:  # any failure is the task's outcome, reported to the client through it
            LOG.info("import task %s failed: %s", task_id, exc)
            self._failed(task_id, getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
            return
        if method["name"] == "copy-image":
            self._copy(task_id, image_id, stores)
            return
        # an import's copy into the rbd store is made once the image is active, from the file store, which
        # keeps the image too
        rbd_asked = "rbd" in stores
        stores = [name for name in stores if name != "rbd"] or ["file"]
        published = None
        try:
            try:
                written = self.store.write(image_id, self._source(image_id, method), allowed)
                virtual_size = inspect(self.store.path(image_id), disk_format)
                if conversion.wanted(self.rules, disk_format):
                    disk_format = self.rules.conversion_format
                    written, virtual_size = conversion.convert(self.store, image_id, task_disk_format, disk_format,
                                                               allowed)
                self.place(image_id, stores)
            except Exception as exc:  # any failure is the task's outcome, reported to the client through it
                LOG.info("import task %s failed: %s", task_id, exc)
                self._failed(task_id, getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
                return
            with self.db.write() as session:
                task, image = session.get(ImageTask, task_id), session.get(Image, image_id)
                if image is None:  # deleted while importing
                    self.store.delete(image_id)
                    finish_task(task, "failure", f"Image {image_id} was deleted during the import.")
                else:
                    image.disk_format = disk_format  # the conversion's, when it ran
                    image.publish(written.size, written.md5, written.sha512, virtual_size)
                    set_properties(image, **{LOCK: None, IMPORTING: "",
                                             STORES: None if stores == ["file"] else ",".join(stores)})
                    finish_task(task, "success", result={"image_id": image_id})
                    published = stores
        finally:
            self.placed(image_id, published)
        self.staging.delete(image_id)
        if image is not None and self.on_active is not None:
            self.on_active(image_id, rbd_asked)

    def _copy(self, task_id: str, image_id: str, stores: list[str]) -> None:
        """copy-image: the active image's data into more stores; it stays active and readable throughout."""
        held = None
        try:
            try:
                if self.copy is None:
                    raise RuntimeError("copy-image has no other store to copy to")
                held = self.copy(image_id, stores)
            except Exception as exc:
                LOG.info("copy task %s failed: %s", task_id, exc)
                with self.db.write() as session:
                    task, image = session.get(ImageTask, task_id), session.get(Image, image_id)
                    finish_task(task, "failure", getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
                    if image is not None:
                        set_properties(image, **{LOCK: None, IMPORTING: "", FAILED: ",".join(stores)})
                return
            with self.db.write() as session:
                task, image = session.get(ImageTask, task_id), session.get(Image, image_id)
                if image is None:
                    finish_task(task, "failure", f"Image {image_id} was deleted during the copy.")
                    held = None
                else:
                    set_properties(image, **{LOCK: None, IMPORTING: "", STORES: ",".join(held)})
                    finish_task(task, "success", result={"image_id": image_id})
        finally:
            self.placed(image_id, held)

    def _source(self, image_id: str, method: dict) -> Iterator[bytes]:
        if method["name"] == "glance-direct":
            return self.staging.read(image_id)
        return download(method["uri"], self.rules)

    def _failed(self, task_id: str, message: str) -> None:
        with self.db.write() as session:
            task = session.get(ImageTask, task_id)
            finish_task(task, "failure", message)
            image_id = task.image_id
            image = session.get(Image, image_id)
            published = image is not None and image.status in ("active", "deactivated")
            if image is not None and image.status == "importing":
                fail_import(image, self.store.name)
            elif published:  # a copy-image that failed before it began: the image keeps its data
                set_properties(image, **{LOCK: None, IMPORTING: ""})
        if not published:
            self.store.delete(image_id)
            self.staging.delete(image_id)

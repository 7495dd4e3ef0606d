"""After a crash: blobs no row owns go, rows whose blob is gone go, unfinished uploads go.

Only what is older than this process is touched: an upload that another serving process is renaming
into place right now (its row not yet committed) is newer than that and is left alone.
"""

from __future__ import annotations

import logging

from onestack.drivers.objectstore import Unavailable
from onestack.services.object.service import ObjectService

LOG = logging.getLogger("onestack.object")
BATCH = 500


def sweep(svc: ObjectService, before: float) -> tuple[int, int, int]:
    """Returns (partials removed, orphan blobs removed, lost rows dropped); nothing when the store cannot
    be reached (a Ceph cluster away): a row is never dropped for a blob that could not be looked at."""
    try:
        return _sweep(svc, before)
    except Unavailable as exc:
        LOG.warning("object store sweep skipped: %s", exc)
        return 0, 0, 0


def _sweep(svc: ObjectService, before: float) -> tuple[int, int, int]:
    partials = svc.store.discard_partials(before)
    orphans = 0
    batch: list[str] = []
    for blob_id, mtime in svc.store.blobs():
        if mtime < before:
            batch.append(blob_id)
        if len(batch) >= BATCH:
            orphans += _drop_orphans(svc, batch)
            batch = []
    orphans += _drop_orphans(svc, batch)
    lost = 0
    after = None
    while True:
        rows = svc.rows_after(after, BATCH)
        if not rows:
            break
        for row in rows:
            if row.blob_id is not None and svc.store.stat(row.blob_id) != row.blob_size:
                LOG.warning("object %r has lost its data (blob %s); dropping it", row.name, row.blob_id)
                svc.drop_lost(row)
                lost += 1
        after = (rows[-1].container_id, rows[-1].name)
    if partials or orphans or lost:
        LOG.info("object store sweep: %d partial uploads, %d orphan blobs, %d lost objects removed",
                 partials, orphans, lost)
    return partials, orphans, lost


def _drop_orphans(svc: ObjectService, batch: list[str]) -> int:
    if not batch:
        return 0
    owned = svc.owned_blobs(batch)
    for blob_id in batch:
        if blob_id not in owned:
            svc.store.delete(blob_id)
    return len(batch) - len(owned & set(batch))

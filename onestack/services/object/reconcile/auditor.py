"""The object auditor: re-read every object, quarantine the ones whose bytes no longer match.

A damaged blob moves to the store's ``quarantine/`` directory (kept for an operator) and its object
leaves the listing and the counters, as Swift's auditor quarantines a bad replica.  Run it with
``make audit DATA_DIR=...`` or ``python -m onestack.services.object.reconcile.auditor DATA_DIR``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from onestack import config
from onestack.db.engine import Database
from onestack.services.object.service import ObjectService

LOG = logging.getLogger("onestack.object")
BATCH = 500


def audit(svc: ObjectService) -> list[str]:
    """The names of the objects quarantined."""
    bad: list[str] = []
    after = None
    while True:
        rows = svc.rows_after(after, BATCH)
        if not rows:
            return bad
        for row in rows:
            if row.blob_id is not None and not svc.store.verify(row.blob_id, row.blocks, row.blob_size, row.etag):
                LOG.warning("object %r: blob %s is damaged; quarantined", row.name, row.blob_id)
                svc.store.quarantine(row.blob_id)
                svc.drop_lost(row)
                bad.append(row.name)
        after = (rows[-1].container_id, rows[-1].name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, nargs="?", default=config.default_data_dir())
    args = parser.parse_args(argv)
    settings = config.load(args.data_dir)
    db = Database(settings.database_url)
    try:
        bad = audit(ObjectService(db, settings))
    finally:
        db.dispose()
    for name in bad:
        print(f"quarantined: {name}")
    print(f"{len(bad)} damaged object(s) quarantined")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

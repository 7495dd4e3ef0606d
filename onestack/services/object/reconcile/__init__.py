"""Converging the blob store with the listings: what runs in the background of the object service.

At start the sweeper makes files and rows agree again after a crash; the expirer then removes objects
past their ``X-Delete-At`` as they fall due; the auditor (run on demand) re-reads every object.
"""

from __future__ import annotations

import threading
import time

from onestack.reconcile.loop import Loop
from onestack.services.object.reconcile import expirer, sweeper
from onestack.services.object.service import ObjectService


class Upkeep:
    def __init__(self, svc: ObjectService, expire_every: float = 1.0):
        self.svc = svc
        self.started = time.time()
        self.expirer = Loop("object-expirer", lambda key: expirer.handle(svc, key), lambda: expirer.due(svc),
                            workers=1, resync_every=expire_every)
        self._sweep: threading.Thread | None = None

    def start(self) -> None:
        self._sweep = threading.Thread(target=sweeper.sweep, args=(self.svc, self.started), name="object-sweep",
                                       daemon=True)
        self._sweep.start()
        self.expirer.start()

    def stop(self) -> None:
        self.expirer.stop()
        if self._sweep is not None:
            self._sweep.join(timeout=5)

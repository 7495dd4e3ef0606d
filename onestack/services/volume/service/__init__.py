"""``VolumeService``: the Volume service's domain rules; the only layer that opens transactions."""

from __future__ import annotations

from onestack.config import Settings
from onestack.db.engine import Database


class VolumeService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings

"""The compute service: what its handlers reach through ``call.runtime.compute``."""

from __future__ import annotations

from onestack.config import Settings
from onestack.db.engine import Database


class ComputeService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings

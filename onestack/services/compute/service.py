"""The compute service: what its handlers reach through ``call.runtime.compute``.

Besides the catalogue's own routes, the server code calls ``quota_limits``, ``check_quota`` and ``usage``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.services.compute import keypairs
from onestack.services.compute.quota_resources import DEFAULTS
from onestack.services.compute.quotas import Quotas


class ComputeService:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.quotas = Quotas(self.usage)

    def usage(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """What is in use, per quota resource, in a project (or by one user in it).

        SEAM: only keypairs are counted here (they are per user, so a project alone uses none).  The
        server code fills instances, cores, ram, server_groups and server_group_members; until then they
        are 0 and every such quota check passes.
        """
        used = dict.fromkeys(DEFAULTS, 0)
        if user_id:
            used["key_pairs"] = keypairs.count(session, user_id)
        return used

    def quota_limits(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """The limits in force (-1: unlimited) for the project, or for the user within it."""
        return self.quotas.limits(session, project_id, user_id)

    def check_quota(self, session: Session, project_id: str, user_id: str | None, deltas: dict[str, int]) -> None:
        """Raise Nova's 403 ("Quota exceeded for instances: Requested 1, but already used 10 of 10
        instances") if adding ``deltas`` (e.g. ``{"instances": 1, "cores": 2, "ram": 512}``) passes a
        limit.  Call it inside the creating transaction: the project's quota lock is held until it ends."""
        self.quotas.check(session, project_id, user_id, deltas)

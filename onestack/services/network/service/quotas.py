"""Per-project quotas (Neutron's quotas and quota_details extensions), checked in the transaction that
creates the resource.

Limits live in ``Quota`` rows only where a project has its own; everything else is the default from
the settings.  On PostgreSQL the project's lock row is taken first (``SELECT ... FOR UPDATE``), so two
racing creates count one after the other; SQLite already runs one writer at a time.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.db.engine import Database
from onestack.db.locks import lock_or_create
from onestack.http.errors import Conflict
from onestack.services.network.models import Quota, QuotaLock

UNLIMITED = -1


class Quotas:
    def __init__(self, db: Database, settings: NetworkSettings, counted: dict):
        """``counted``: resource name -> the model whose rows count against it."""
        self.db = db
        self.defaults = dict(settings.quotas)
        self.counted = counted

    # -- inside the creating transaction ------------------------------------------------
    def check(self, session: Session, project_id: str, resource: str, adding: int = 1) -> None:
        limit = self._limits(session, project_id).get(resource, UNLIMITED)
        if limit == UNLIMITED:
            return
        lock_or_create(session, QuotaLock, project_id, project_id=project_id)
        if self._used(session, project_id, resource) + adding > limit:
            raise Conflict(f"Quota exceeded for resources: ['{resource}'].", kind="OverQuota")

    def _limits(self, session: Session, project_id: str) -> dict[str, int]:
        found = dict(self.defaults)
        found.update(session.execute(select(Quota.resource, Quota.limit).where(Quota.project_id == project_id)).all())
        return found

    def _used(self, session: Session, project_id: str, resource: str) -> int:
        model = self.counted[resource]
        return session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id)) or 0

    # -- the quota routes' operations, each one transaction -------------------------------
    def customised(self) -> dict[str, dict[str, int]]:
        """The limits of every project that has a limit of its own, by project."""
        with self.db.read() as session:
            projects = sorted(session.scalars(select(Quota.project_id).distinct()))
            return {project: self._limits(session, project) for project in projects}

    def limits(self, project_id: str) -> dict[str, int]:
        with self.db.read() as session:
            return self._limits(session, project_id)

    def details(self, project_id: str) -> dict[str, dict]:
        with self.db.read() as session:
            return {name: {"limit": limit, "used": self._used(session, project_id, name) if name in self.counted else 0,
                           "reserved": 0} for name, limit in self._limits(session, project_id).items()}

    def set_limits(self, project_id: str, limits: dict[str, int], check_limit: bool) -> dict[str, int]:
        """Give a project its own limits; with ``check_limit``, refuse any below what it already uses."""
        with self.db.write() as session:
            if check_limit:
                below = sorted(name for name, limit in limits.items() if limit != UNLIMITED and name in self.counted
                               and self._used(session, project_id, name) > limit)
                if below:
                    raise Conflict(f"Change would make usage less than 0 for the following resources: {below}.",
                                   kind="InvalidQuotaValue")
            for resource, limit in limits.items():
                found = session.get(Quota, (project_id, resource))
                if found is None:
                    session.add(Quota(project_id=project_id, resource=resource, limit=limit))
                else:
                    found.limit = limit
            session.flush()
            return self._limits(session, project_id)

    def reset(self, project_id: str) -> None:
        """Back to the defaults."""
        with self.db.write() as session:
            session.execute(delete(Quota).where(Quota.project_id == project_id))

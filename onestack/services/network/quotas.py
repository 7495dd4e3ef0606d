"""Per-project quotas, checked in the transaction that creates the resource.

On PostgreSQL the project's lock row is taken first (``SELECT ... FOR UPDATE``), so two racing
creates count one after the other; SQLite already runs one writer at a time.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestack.config import NetworkSettings
from onestack.http.errors import Conflict
from onestack.services.network.models import Quota, QuotaLock

UNLIMITED = -1


class Quotas:
    def __init__(self, settings: NetworkSettings, counted: dict):
        """``counted``: resource name -> the model whose rows count against it."""
        self.defaults = dict(settings.quotas)
        self.counted = counted

    def limits(self, session: Session, project_id: str) -> dict[str, int]:
        found = dict(self.defaults)
        found.update(session.execute(select(Quota.resource, Quota.limit).where(Quota.project_id == project_id)).all())
        return found

    def used(self, session: Session, project_id: str, resource: str) -> int:
        model = self.counted[resource]
        return session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id)) or 0

    def check(self, session: Session, project_id: str, resource: str, adding: int = 1) -> None:
        limit = self.limits(session, project_id).get(resource, UNLIMITED)
        if limit == UNLIMITED:
            return
        if session.get(QuotaLock, project_id, with_for_update=True) is None:
            session.add(QuotaLock(project_id=project_id))
            session.flush()
        if self.used(session, project_id, resource) + adding > limit:
            raise Conflict(f"Quota exceeded for resources: ['{resource}'].", kind="OverQuota")

    def details(self, session: Session, project_id: str) -> dict[str, dict]:
        return {name: {"limit": limit, "used": self.used(session, project_id, name) if name in self.counted else 0,
                       "reserved": 0} for name, limit in self.limits(session, project_id).items()}

    def set_limits(self, session: Session, project_id: str, limits: dict[str, int]) -> None:
        for resource, limit in limits.items():
            found = session.get(Quota, (project_id, resource))
            if found is None:
                session.add(Quota(project_id=project_id, resource=resource, limit=limit))
            else:
                found.limit = limit

    def reset(self, session: Session, project_id: str) -> None:
        """Back to the defaults."""
        session.execute(delete(Quota).where(Quota.project_id == project_id))

    def customised(self, session: Session) -> list[str]:
        """The projects with a limit of their own."""
        return sorted(session.scalars(select(Quota.project_id).distinct()))

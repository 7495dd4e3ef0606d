"""What a project (or one user in it) has in use, per quota resource: the count quota checks add to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.services.compute.models import Instance, ServerGroup
from onestack.services.compute.models.quota_resources import DEFAULTS
from onestack.services.compute.service import keypairs


def usage(session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
    used = dict.fromkeys(DEFAULTS, 0)
    live = select(func.count(), func.coalesce(func.sum(Instance.vcpus), 0),
                  func.coalesce(func.sum(Instance.memory_mb), 0)).where(
        Instance.project_id == project_id, Instance.deleted.is_(False))
    if user_id:
        live = live.where(Instance.user_id == user_id)
        used["key_pairs"] = keypairs.count(session, user_id)
    used["instances"], used["cores"], used["ram"] = (int(v) for v in session.execute(live).one())
    groups = select(func.count()).select_from(ServerGroup).where(ServerGroup.project_id == project_id)
    used["server_groups"] = session.scalar(groups if not user_id else groups.where(ServerGroup.user_id == user_id))
    return used

"""Per-project limits on volumes, snapshots and gigabytes (in all and per volume type), as Cinder counts.

A limit is the project's own, else the ``default`` class's as an operator set it, else the built-in one;
-1 means unlimited.  Usage is counted from the rows themselves, so it can never drift.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest, PayloadTooLarge
from onestack.services.volume.models import Backup, Group, Quota, QuotaClass, Snapshot, Volume, VolumeType

DEFAULT_CLASS = "default"
DEFAULTS = {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
            "groups": 10, "per_volume_gigabytes": -1}
PER_TYPE = ("volumes", "snapshots", "gigabytes")


def _type_names(session: Session) -> list[str]:
    return list(session.scalars(select(VolumeType.name).order_by(VolumeType.name)))


def class_limits(session: Session, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    limits = dict(DEFAULTS)
    limits.update({f"{kind}_{name}": -1 for name in _type_names(session) for kind in PER_TYPE})
    for name in dict.fromkeys((DEFAULT_CLASS, class_name)):
        limits.update(session.execute(select(QuotaClass.resource, QuotaClass.hard_limit)
                                      .where(QuotaClass.class_name == name)).all())
    return limits


def limits(session: Session, project_id: str) -> dict[str, int]:
    found = class_limits(session)
    found.update(session.execute(select(Quota.resource, Quota.hard_limit)
                                 .where(Quota.project_id == project_id)).all())
    return found


def usage(session: Session, project_id: str) -> dict[str, int]:
    """In-use counts of every limited resource."""
    used = {resource: 0 for resource in limits(session, project_id)}
    volumes = session.execute(select(VolumeType.name, func.count(), func.coalesce(func.sum(Volume.size), 0))
                              .join(Volume.volume_type).where(Volume.project_id == project_id)
                              .group_by(VolumeType.name)).all()
    snapshots = session.execute(
        select(VolumeType.name, func.count(), func.coalesce(func.sum(Snapshot.size), 0))
        .select_from(Snapshot).join(Volume, Volume.id == Snapshot.volume_id).join(Volume.volume_type)
        .where(Snapshot.project_id == project_id, Snapshot.hidden.is_(False)).group_by(VolumeType.name)).all()
    for kind, rows in (("volumes", volumes), ("snapshots", snapshots)):
        for type_name, count, gigabytes in rows:
            used[kind] += count
            used["gigabytes"] += gigabytes
            used[f"{kind}_{type_name}"] = used.get(f"{kind}_{type_name}", 0) + count
            used[f"gigabytes_{type_name}"] = used.get(f"gigabytes_{type_name}", 0) + gigabytes
    backups, backup_gigabytes = session.execute(
        select(func.count(), func.coalesce(func.sum(Backup.size), 0)).where(Backup.project_id == project_id)).one()
    used["backups"], used["backup_gigabytes"] = backups, backup_gigabytes
    used["groups"] = session.scalar(select(func.count()).select_from(Group).where(Group.project_id == project_id))
    used["per_volume_gigabytes"] = 0
    return used


def check(session: Session, project_id: str, type_name: str, *, volumes: int = 0, snapshots: int = 0,
          gigabytes: int = 0, size: int | None = None) -> None:
    """Raise Cinder's 413 when adding these would pass a limit of the project (in all or for the type)."""
    allowed, used = limits(session, project_id), usage(session, project_id)
    per_volume = allowed["per_volume_gigabytes"]
    if size is not None and per_volume >= 0 and size > per_volume:
        raise PayloadTooLarge(f"VolumeSizeExceedsLimit: Requested volume size {size}G is larger than maximum "
                              f"allowed limit {per_volume}G.")
    for kind, delta in (("volumes", volumes), ("snapshots", snapshots), ("gigabytes", gigabytes)):
        for resource in (kind, f"{kind}_{type_name}"):
            limit = allowed.get(resource, -1)
            if delta and limit >= 0 and used.get(resource, 0) + delta > limit:
                raise _exceeded(resource, kind, limit, used.get(resource, 0), delta)


def check_retype(session: Session, project_id: str, type_name: str, size: int) -> None:
    """Raise Cinder's 413 when a volume of ``size`` GB moving to the type would pass its per-type limits."""
    allowed, used = limits(session, project_id), usage(session, project_id)
    for kind, delta in (("volumes", 1), ("gigabytes", size)):
        resource = f"{kind}_{type_name}"
        limit = allowed.get(resource, -1)
        if limit >= 0 and used.get(resource, 0) + delta > limit:
            raise _exceeded(resource, kind, limit, used.get(resource, 0), delta)


def check_backup(session: Session, project_id: str, size: int) -> None:
    """Raise Cinder's 413 when one more backup of ``size`` GB would pass the project's backup limits."""
    allowed, used = limits(session, project_id), usage(session, project_id)
    if 0 <= allowed["backups"] < used["backups"] + 1:
        raise PayloadTooLarge(f"BackupLimitExceeded: Maximum number of backups allowed ({allowed['backups']}) "
                              f"exceeded.")
    if 0 <= allowed["backup_gigabytes"] < used["backup_gigabytes"] + size:
        raise PayloadTooLarge(f"VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup "
                              f"gigabytes quota. Requested {size}G, quota is {allowed['backup_gigabytes']}G and "
                              f"{used['backup_gigabytes']}G has been consumed.")


def check_group(session: Session, project_id: str) -> None:
    """Raise Cinder's 413 when one more group would pass the project's limit."""
    allowed = limits(session, project_id)["groups"]
    if allowed >= 0 and usage(session, project_id)["groups"] + 1 > allowed:
        raise PayloadTooLarge(f"GroupLimitExceeded: Maximum number of groups allowed ({allowed}) exceeded")


def _exceeded(resource: str, kind: str, limit: int, used: int, delta: int) -> PayloadTooLarge:
    if kind == "gigabytes":
        return PayloadTooLarge(f"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                               f"{resource} quota. Requested {delta}G, quota is {limit}G and {used}G has been "
                               f"consumed.")
    noun = "VolumeLimitExceeded" if kind == "volumes" else "SnapshotLimitExceeded"
    return PayloadTooLarge(f"{noun}: Maximum number of {kind} allowed ({limit}) exceeded for quota "
                           f"'{resource}'.")


def _validated(session: Session, values: dict, known: dict[str, int]) -> dict[str, int]:
    bad = sorted(set(values) - set(known))
    if bad:
        raise BadRequest(f"Bad key(s) in quota set: {', '.join(bad)}")
    checked = {}
    for resource, value in values.items():
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"Quota {resource} must be an integer, got {value!r}.") from None
        if isinstance(value, bool) or limit < -1 or limit > 2147483647:
            raise BadRequest(f"Quota limit {value} for {resource} must be an integer from -1 to 2147483647.")
        checked[resource] = limit
    return checked


def update(session: Session, project_id: str, values: dict) -> None:
    checked = _validated(session, values, limits(session, project_id))
    used = usage(session, project_id)
    for resource, limit in checked.items():
        if 0 <= limit < used.get(resource, 0):
            raise BadRequest(f"Quota limit {limit} for {resource} must be greater than or equal to already used "
                             f"and reserved {used[resource]}.")
        session.merge(Quota(project_id=project_id, resource=resource, hard_limit=limit))


def update_class(session: Session, class_name: str, values: dict) -> None:
    for resource, limit in _validated(session, values, class_limits(session, class_name)).items():
        session.merge(QuotaClass(class_name=class_name, resource=resource, hard_limit=limit))


def reset(session: Session, project_id: str) -> None:
    session.execute(delete(Quota).where(Quota.project_id == project_id))


def forget_type(session: Session, type_name: str) -> None:
    """A deleted type's per-type limits go with it."""
    names = [f"{kind}_{type_name}" for kind in PER_TYPE]
    session.execute(delete(Quota).where(Quota.resource.in_(names)))
    session.execute(delete(QuotaClass).where(QuotaClass.resource.in_(names)))

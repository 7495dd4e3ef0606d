"""Volume types: extra specs, private types and the projects given them, the cloud's and each project's
default type."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.volume.models import DEFAULT_TYPE_ID, DefaultType, Volume, VolumeType, VolumeTypeAccess
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import quotas
from onestack.services.volume.service.access import sees_every_project

# What the one file backend reports of itself (Cinder's volume stats).  A type's extra spec naming one of these
# (bare or scoped ``capabilities:``) must match it for the scheduler to place a volume of the type, as
# Cinder's capabilities filter has it; other extra specs place nothing.
BACKEND_CAPABILITIES = {"volume_backend_name": "file", "storage_protocol": "file", "vendor_name": "Open Source"}


def unmet_capabilities(extra_specs: dict, capabilities: dict) -> list[str]:
    """The extra specs of a type the backend with ``capabilities`` does not satisfy (an exact value, or
    ``<in>`` a part of it)."""
    unmet = []
    for key, wanted in extra_specs.items():
        have = capabilities.get(key.removeprefix("capabilities:"))
        if have is None:
            continue
        wanted = str(wanted).strip()
        if wanted.startswith("<in>"):
            met = wanted.removeprefix("<in>").strip() in have
        elif wanted.startswith("<") or wanted[:2] in (">=", "<=", "==", "!="):
            met = True  # an operator this backend's string capabilities do not compare: not held against it
        else:
            met = wanted == have
        if not met:
            unmet.append(f"{key}={wanted} (the backend has {have})")
    return unmet


def _usable(ctx: Context) -> object:
    """The condition on types a caller may use: public ones and private ones given to its project."""
    given = select(VolumeTypeAccess.type_id).where(VolumeTypeAccess.project_id == ctx.project_id)
    return or_(VolumeType.is_public.is_(True), VolumeType.id.in_(given))


def default_for(session: Session, project_id: str | None) -> VolumeType:
    """The project's own default type (3.62) if it set one, else the cloud's."""
    own = session.get(DefaultType, project_id) if project_id else None
    return session.get(VolumeType, own.type_id if own else DEFAULT_TYPE_ID)


def find(session: Session, ctx: Context, ref: str) -> VolumeType:
    """A type by id or name (``default``: the caller's default) that the caller may use, or 404."""
    if ref == "default":
        return default_for(session, ctx.project_id)
    stmt = select(VolumeType).where(or_(VolumeType.id == ref, VolumeType.name == ref))
    if not sees_every_project(ctx):
        stmt = stmt.where(_usable(ctx))
    found = session.scalars(stmt.order_by((VolumeType.id == ref).desc())).first()
    if found is None:
        raise NotFound(f"Volume type {ref} could not be found.")
    return found


def listing(session: Session, ctx: Context, is_public: str | None) -> list[VolumeType]:
    """Cinder's rule: callers see public types and their project's private ones; admins may ask for
    ``is_public=false`` (private only) or ``none`` (all)."""
    stmt = select(VolumeType).order_by(VolumeType.name)
    wanted = (is_public or "true").lower() if sees_every_project(ctx) else "true"
    if wanted in ("none", "all"):
        return list(session.scalars(stmt))
    if wanted in ("false", "0", "no", "off"):
        return list(session.scalars(stmt.where(VolumeType.is_public.is_(False))))
    return list(session.scalars(stmt.where(_usable(ctx))))


def create(session: Session, ctx: Context, name: str, description: str | None, is_public: bool,
           extra_specs: dict[str, str]) -> VolumeType:
    authorize(ctx, "volume_extension:types_manage")
    _unique(session, name)
    row = VolumeType(id=str(uuid.uuid4()), name=name, description=description, is_public=is_public,
                     extra_specs=dict(extra_specs))
    session.add(row)
    session.flush()
    return row


def _unique(session: Session, name: str, but: str | None = None) -> None:
    clash = session.scalars(select(VolumeType).where(VolumeType.name == name)).first()
    if clash is not None and clash.id != but:
        raise Conflict(f"Volume Type {name} already exists.")


def update(session: Session, ctx: Context, ref: str, changes: dict) -> VolumeType:
    authorize(ctx, "volume_extension:types_manage")
    row = find(session, ctx, ref)
    if "name" in changes:
        if row.id == DEFAULT_TYPE_ID:
            raise BadRequest("The name of the default volume type cannot be changed.")
        _unique(session, changes["name"], but=row.id)
        row.name = changes["name"]
    if "description" in changes:
        row.description = changes["description"]
    if "is_public" in changes:
        row.is_public = changes["is_public"]
    return row


def delete(session: Session, ctx: Context, ref: str) -> None:
    authorize(ctx, "volume_extension:types_manage")
    row = find(session, ctx, ref)
    if row.id == DEFAULT_TYPE_ID or session.scalars(select(DefaultType).where(DefaultType.type_id == row.id)).first():
        raise BadRequest("Default volume type can not be deleted.")
    if session.scalar(select(func.count()).select_from(Volume).where(Volume.type_id == row.id)):
        raise BadRequest("Target volume type is still in use.")
    quotas.forget_type(session, row.name)
    session.delete(row)


def set_specs(session: Session, ctx: Context, ref: str, specs: dict[str, str]) -> dict[str, str]:
    authorize(ctx, "volume_extension:types_manage")
    row = find(session, ctx, ref)
    row.extra_specs = {**row.extra_specs, **specs}
    return row.extra_specs


def unset_spec(session: Session, ctx: Context, ref: str, key: str) -> None:
    authorize(ctx, "volume_extension:types_manage")
    row = find(session, ctx, ref)
    if key not in row.extra_specs:
        raise NotFound(f"Volume Type {row.id} has no extra specs with key {key}.")
    row.extra_specs = {k: v for k, v in row.extra_specs.items() if k != key}


def access(session: Session, ctx: Context, ref: str) -> list[VolumeTypeAccess]:
    authorize(ctx, "volume_extension:volume_type_access")
    row = find(session, ctx, ref)
    if row.is_public:
        raise NotFound("Access list not available for public volume types.")
    return list(session.scalars(select(VolumeTypeAccess).where(VolumeTypeAccess.type_id == row.id)
                                .order_by(VolumeTypeAccess.project_id)))


def change_access(session: Session, ctx: Context, ref: str, project_id: str, add: bool) -> None:
    authorize(ctx, "volume_extension:volume_type_access")
    row = find(session, ctx, ref)
    if row.is_public:
        raise BadRequest("Invalid volume type: Type access modification is not applicable to public volume type.")
    given = session.get(VolumeTypeAccess, (row.id, project_id))
    if add and given is not None:
        raise Conflict(f"Volume type access for {row.id} / {project_id} combination already exists.")
    if not add and given is None:
        raise NotFound(f"Volume type access not found for {row.id} / {project_id} combination.")
    if add:
        session.add(VolumeTypeAccess(type_id=row.id, project_id=project_id))
    else:
        session.delete(given)


# -- each project's default type (3.62) ---------------------------------------------------------------------
def project_default(session: Session, ctx: Context, project_id: str) -> DefaultType:
    authorize(ctx, "volume_extension:default_get", project_id)
    found = session.get(DefaultType, project_id)
    if found is None:
        raise NotFound(f"Default type for project {project_id} could not be found.")
    return found


def project_defaults(session: Session, ctx: Context) -> list[DefaultType]:
    authorize(ctx, "volume_extension:default_get_all")
    return list(session.scalars(select(DefaultType).order_by(DefaultType.project_id)))


def set_project_default(session: Session, ctx: Context, project_id: str, ref: str) -> DefaultType:
    authorize(ctx, "volume_extension:default_set", project_id)
    chosen = find(session, ctx, ref)
    return session.merge(DefaultType(project_id=project_id, type_id=chosen.id))


def unset_project_default(session: Session, ctx: Context, project_id: str) -> None:
    authorize(ctx, "volume_extension:default_set", project_id)
    session.delete(project_default(session, ctx, project_id))

"""Flavors: who sees which, listing as Nova filters and pages it, creation rules, extra specs, access."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.listing import COUNT, STRING, apply_sort, count_param, page, parse_limit, query_parameters
from onestack.services.compute.models import Flavor, FlavorExtraSpec, FlavorProject
from onestack.services.compute.models.quota_resources import MAX_LIMIT
from onestack.services.compute.schemas import as_bool

# DevStack's flavors (Nova's historical defaults) and the two small ones DevStack makes for Tempest:
# (id, name, vcpus, ram MB, disk GB).
DEFAULT_FLAVORS = (("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20), ("3", "m1.medium", 2, 4096, 40),
                   ("4", "m1.large", 4, 8192, 80), ("5", "m1.xlarge", 8, 16384, 160),
                   ("42", "m1.nano", 1, 128, 1), ("84", "m1.micro", 1, 192, 1))

SORTABLE = {k: k for k in ("created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id", "is_public",
                           "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight",
                           "vcpus")}
# Nova's [api] max_limit: a page never holds more, and a full page gets a "next" link.
MAX_PAGE = 1000
# Body field -> (column, smallest value) for the integer attributes.
INTEGERS = {"ram": ("memory_mb", 1), "vcpus": ("vcpus", 1), "disk": ("root_gb", 0),
            "OS-FLV-EXT-DATA:ephemeral": ("ephemeral_gb", 0), "swap": ("swap", 0)}
TRUE_FILTER = ("1", "t", "true", "on", "y", "yes")
FALSE_FILTER = ("0", "f", "false", "off", "n", "no")


def seed_defaults(session: Session) -> None:
    """Nova's default flavors on a cloud that has none yet: once created, a flavor the operator deletes
    stays deleted across restarts."""
    if session.scalar(select(Flavor.id).limit(1)) is not None:
        return
    for flavorid, name, vcpus, ram, disk in DEFAULT_FLAVORS:
        session.add(Flavor(flavorid=flavorid, name=name, vcpus=vcpus, memory_mb=ram, root_gb=disk))
    session.flush()


def accessible_to(project_id: str | None):
    """Public flavors and the private ones ``project_id`` was given access to."""
    granted = select(FlavorProject.flavor_id).where(FlavorProject.project_id == project_id)
    return or_(Flavor.is_public.is_(True), Flavor.id.in_(granted))


def get(session: Session, ctx: Context, flavorid: str) -> Flavor:
    """The flavor, if the caller may see it; a private flavor is a 404 to projects without access."""
    stmt = select(Flavor).where(Flavor.flavorid == flavorid)
    if not ctx.is_admin:
        stmt = stmt.where(accessible_to(ctx.project_id))
    flavor = session.scalar(stmt)
    if flavor is None:
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


# the list's query string (``listing``), as the OpenAPI description publishes it
QUERY = query_parameters({"is_public": STRING, "minRam": COUNT, "minDisk": COUNT}, sort_keys=SORTABLE)


def _is_public_filter(ctx: Context, query):
    """Nova lets admins choose (default: what their project sees; ``none``: all); others see what they
    may use, enabled only."""
    if not ctx.is_admin:
        return accessible_to(ctx.project_id) & Flavor.disabled.is_(False)
    raw = query.get("is_public")
    if raw is None:
        return accessible_to(ctx.project_id)
    lowered = raw.strip().lower()
    if lowered == "none":
        return true()
    if lowered in TRUE_FILTER:
        return accessible_to(ctx.project_id)
    if lowered in FALSE_FILTER:
        return Flavor.is_public.is_(False)
    raise BadRequest(f"Invalid is_public filter [{raw}]")


def listing(session: Session, ctx: Context, query) -> tuple[list[Flavor], int]:
    """One page of the flavors the caller sees, and the page size a full page has."""
    stmt = select(Flavor).where(_is_public_filter(ctx, query))
    for param, column in (("minRam", Flavor.memory_mb), ("minDisk", Flavor.root_gb)):
        if param in query:
            raw = query[param]
            stmt = stmt.where(column >= count_param(raw, f"Invalid {param} filter [{raw}]"))
    keys, dirs = query.getlist("sort_key")[:1], query.getlist("sort_dir")[:1]
    stmt = apply_sort(stmt, Flavor, keys, dirs, SORTABLE, default="flavorid")
    limit = min(parse_limit(query, MAX_PAGE), MAX_PAGE)
    rows = session.scalars(stmt).all()
    try:
        shown, _ = page(rows, query, limit, key=lambda f: f.flavorid)
    except NotFound:
        raise BadRequest(f"Marker {query.get('marker')} could not be found.") from None
    return shown, limit


def create(session: Session, body: dict) -> Flavor:
    """A flavor from a body the schema accepted (numbers may still be strings of digits)."""
    given_id = body.get("id")
    flavorid = str(uuid.uuid4()) if given_id is None else str(given_id)
    flavor = Flavor(flavorid=flavorid, name=body["name"], description=body.get("description"),
                    is_public=as_bool(body.get("os-flavor-access:is_public", True)))
    for field, (column, minimum) in INTEGERS.items():
        value = int(body.get(field, 0))
        if not minimum <= value <= MAX_LIMIT:
            raise BadRequest(f"Invalid input received: {field} must be >= {minimum} and <= {MAX_LIMIT}.")
        setattr(flavor, column, value)
    flavor.rxtx_factor = float(body.get("rxtx_factor", 1.0))
    if session.scalar(select(Flavor.id).where(Flavor.name == flavor.name)) is not None:
        raise Conflict(f"Flavor with name {flavor.name} already exists.")
    if session.scalar(select(Flavor.id).where(Flavor.flavorid == flavorid)) is not None:
        raise Conflict(f"Flavor with ID {flavorid} already exists.")
    session.add(flavor)
    session.flush()
    return flavor


# -- extra specs -------------------------------------------------------------------------
def spec_text(value) -> str:
    """Nova stores every value as a string (numbers and booleans as Python writes them)."""
    return value if isinstance(value, str) else str(value)


def set_extra_specs(session: Session, flavor: Flavor, specs: dict) -> dict[str, str]:
    current = {spec.key: spec for spec in flavor.specs}
    for key, value in specs.items():
        if key in current:
            current[key].value = spec_text(value)
        else:
            flavor.specs.append(FlavorExtraSpec(key=key, value=spec_text(value)))
    session.flush()
    return {key: spec_text(value) for key, value in specs.items()}


def extra_spec(flavor: Flavor, key: str) -> FlavorExtraSpec:
    for spec in flavor.specs:
        if spec.key == key:
            return spec
    raise NotFound(f"Flavor {flavor.flavorid} has no extra specs with key {key}.")


def delete_extra_spec(session: Session, flavor: Flavor, key: str) -> None:
    flavor.specs.remove(extra_spec(flavor, key))
    session.flush()


# -- access to private flavors ----------------------------------------------------------------
def projects_with_access(session: Session, flavor: Flavor) -> list[str]:
    return list(session.scalars(select(FlavorProject.project_id).where(FlavorProject.flavor_id == flavor.id)
                                .order_by(FlavorProject.project_id)))


def add_access(session: Session, flavor: Flavor, project_id: str) -> None:
    if session.get(FlavorProject, (flavor.id, project_id)) is not None:
        raise Conflict(f"Flavor access already exists for flavor {flavor.flavorid} and project {project_id} "
                       "combination.")
    session.add(FlavorProject(flavor_id=flavor.id, project_id=project_id))
    session.flush()


def remove_access(session: Session, flavor: Flavor, project_id: str) -> None:
    row = session.get(FlavorProject, (flavor.id, project_id))
    if row is None:
        raise NotFound(f"Flavor access not found for {flavor.flavorid} / {project_id} combination.")
    session.delete(row)
    session.flush()


class Flavors:
    """The flavor API's transactions."""

    def __init__(self, db: Database):
        self.db = db

    def listing(self, ctx: Context, query) -> tuple[list[Flavor], int]:
        with self.db.read() as session:
            return listing(session, ctx, query)

    def get(self, ctx: Context, flavorid: str) -> Flavor:
        with self.db.read() as session:
            return get(session, ctx, flavorid)

    def create(self, body: dict) -> Flavor:
        with self.db.write() as session:
            flavor = create(session, body)
            _ = flavor.specs  # read now: the view shows them after the transaction
            return flavor

    def describe(self, ctx: Context, flavorid: str, description: str | None) -> Flavor:
        with self.db.write() as session:
            flavor = get(session, ctx, flavorid)
            flavor.description = description
            session.flush()
            return flavor

    def delete(self, ctx: Context, flavorid: str) -> None:
        with self.db.write() as session:
            session.delete(get(session, ctx, flavorid))

    def set_extra_specs(self, ctx: Context, flavorid: str, specs: dict) -> dict[str, str]:
        with self.db.write() as session:
            return set_extra_specs(session, get(session, ctx, flavorid), specs)

    def extra_spec(self, ctx: Context, flavorid: str, key: str) -> FlavorExtraSpec:
        with self.db.read() as session:
            return extra_spec(get(session, ctx, flavorid), key)

    def delete_extra_spec(self, ctx: Context, flavorid: str, key: str) -> None:
        with self.db.write() as session:
            delete_extra_spec(session, get(session, ctx, flavorid), key)

    def access(self, ctx: Context, flavorid: str) -> tuple[Flavor, list[str]]:
        """A private flavor and the projects that may use it."""
        with self.db.read() as session:
            flavor = get(session, ctx, flavorid)
            if flavor.is_public:
                raise NotFound("Access list not available for public flavors.")
            return flavor, projects_with_access(session, flavor)

    def change_access(self, ctx: Context, flavorid: str, project_id: str, *, adding: bool,
                      public_refused: bool) -> tuple[Flavor, list[str]]:
        """Give or take a project's access; ``public_refused``: adding to a public flavor is a 409 (2.7)."""
        with self.db.write() as session:
            flavor = get(session, ctx, flavorid)
            if adding:
                if flavor.is_public and public_refused:
                    raise Conflict("Can not add access to a public flavor.")
                add_access(session, flavor, project_id)
            else:
                remove_access(session, flavor, project_id)
            return flavor, projects_with_access(session, flavor)

"""First start: the cloud's initial identity data, catalog and credential files.

Everything here is idempotent: it runs at every start, creates what is
missing and brings the catalog URLs in line with the address the cloud now
serves on, so ``onestack up --bind`` elsewhere keeps clients working.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from sqlalchemy import select

from onestack import tls
from onestack.db.base import new_id
from onestack.runtime import Runtime
from onestack.seedsecrets import (
    IMAGE_USER,
    ORCHESTRATION_USER,
    FirstHashes,
    load_secrets,
    seeded_users,
    write_private,
)
from onestack.services.compute.service.flavors import seed_defaults as seed_flavors
from onestack.services.identity.models import (
    ROOT_DOMAIN,
    Assignment,
    CatalogService,
    Endpoint,
    ImpliedRole,
    Project,
    Region,
    Revision,
    Role,
    User,
)
from onestack.services.identity.service.passwords import hash_password, store_password
from onestack.services.orchestration.service.cloud import ServiceUser

NETWORK_DEFAULTS_MARKER = "network-defaults-made"
ROLES = ("admin", "member", "reader", "manager", "service", "ResellerAdmin")
IMPLIED = (("admin", "member"), ("member", "reader"), ("manager", "member"))
INTERFACES = ("public", "internal", "admin")
# (service type, name, path under the base URL)
CATALOG = (
    ("identity", "keystone", "/identity"),
    ("compute", "nova", "/compute/v2.1"),
    ("placement", "placement", "/placement"),
    ("network", "neutron", "/network"),
    ("image", "glance", "/image"),
    ("block-storage", "cinder", "/volume/v3/$(project_id)s"),
    ("object-store", "swift", "/object-store/v1/AUTH_$(project_id)s"),
    ("s3", "s3", "/s3"),  # the object store's S3 API (Ceph RGW registers its S3 endpoint so)
    ("orchestration", "heat", "/orchestration/v1/$(project_id)s"),
)


def _one(session, model, **where):
    return session.scalars(select(model).filter_by(**where)).first()


def _ensure(session, model, defaults: dict | None = None, **where):
    row = _one(session, model, **where)
    if row is None:
        row = model(**where, **(defaults or {}))
        session.add(row)
        session.flush()
    return row


def _grant(session, kind: str, actor: str, target: str, role: str) -> None:
    key = (kind, actor, target, role, False)
    if session.get(Assignment, key) is None:
        session.add(Assignment(type=kind, actor_id=actor, target_id=target, role_id=role, inherited=False))


def seed(runtime: Runtime, early: FirstHashes | None = None) -> dict:
    """Create the initial domain, roles, projects, users, catalog and flavors; returns the passwords.
    ``early``: the first start's hashes, begun before the application was imported."""
    settings = runtime.settings
    found = load_secrets(settings.data_dir)
    hashes = _first_hashes(runtime, found, early)
    runtime.identity.keys.initialise()
    with runtime.db.write() as session:
        if session.get(Revision, 1) is None:
            session.add(Revision(id=1, value=0))
        _ensure(session, Project, {"name": "Default", "domain_id": ROOT_DOMAIN, "is_domain": True,
                                   "description": "The default domain", "tags": [], "options": {}, "extra": {}},
                id="default")
        roles = {name: _ensure(session, Role, {"id": new_id(), "options": {}, "extra": {}}, name=name, domain_id="")
                 for name in ROLES}
        for prior, implied in IMPLIED:
            key = (roles[prior].id, roles[implied].id)
            if session.get(ImpliedRole, key) is None:
                session.add(ImpliedRole(prior_role_id=key[0], implied_role_id=key[1]))
        for name, role in (("admin", "admin"), ("demo", "member")):
            project = _ensure(session, Project, {"id": new_id(), "parent_id": "default", "tags": [], "options": {},
                                                 "extra": {}, "description": f"The {name} project"},
                              name=name, domain_id="default")
            user = _one(session, User, name=name, domain_id="default")
            if user is None:
                # The generated passwords live in files the cloud's own tooling reads: compliance rules
                # meant for people (expiry, change on first use) must not lock the cloud out of itself.
                user = User(id=new_id(), name=name, domain_id="default", default_project_id=project.id,
                            options={"ignore_password_expiry": True,
                                     "ignore_change_password_upon_first_use": True}, extra={})
                session.add(user)
                session.flush()
                store_password(session, user, found[f"{name}_password"], settings, hashed=hashes.get(name))
            _grant(session, "UserProject", user.id, project.id, roles[role].id)
            if name == "admin":
                _grant(session, "UserSystem", user.id, "system", roles["admin"].id)
                _grant(session, "UserDomain", user.id, "default", roles["admin"].id)
        heat = _service_user(session, roles["service"], found["heat_password"], settings, hashes.get(ORCHESTRATION_USER))
        glance = None
        if settings.image_swift_store.enabled:
            glance = _service_user(session, roles["service"], found["glance_password"], settings,
                                   hashes.get(IMAGE_USER), name=IMAGE_USER)
            _grant(session, "UserProject", glance, _one(session, Project, name="service", domain_id="default").id,
                   roles["member"].id)
        _ensure(session, Region, {"description": "", "extra": {}}, id=settings.region)
        _sync_catalog(session, settings.base_url, settings.region)
        seed_flavors(session)
    if settings.network.defaults:
        _network_defaults(runtime)
    runtime.orchestration.use_service_user(ServiceUser(heat, ORCHESTRATION_USER, found["heat_password"]))
    if glance is not None and runtime.image.swift is not None:
        runtime.image.swift.use_identity(glance, found["glance_password"])
    return found


def _first_hashes(runtime: Runtime, found: dict, early: FirstHashes | None = None) -> dict[str, str]:
    """The bcrypt hashes of the passwords of the users ``seed`` is to make (none once they exist): those
    ``early`` made, the others side by side (bcrypt lets go of the GIL: on two cores two at once)."""
    names = seeded_users(runtime.settings)
    with runtime.db.read() as session:
        present = set(session.scalars(select(User.name).where(User.domain_id == "default", User.name.in_(names))))
    missing = [name for name in names if name not in present]
    made = {}
    if early is not None:
        made = {name: hashed for name in missing
                if (hashed := early.hash_of(name, found[f"{name}_password"])) is not None}
        missing = [name for name in missing if name not in made]
    if not missing:
        return made
    rounds = runtime.settings.bcrypt_rounds
    with ThreadPoolExecutor(len(missing), thread_name_prefix="bcrypt") as pool:
        hashed = pool.map(lambda name: hash_password(found[f"{name}_password"], rounds), missing)
        return made | dict(zip(missing, hashed, strict=True))


def _service_user(session, service_role: Role, password: str, settings, hashed: str | None = None,
                  name: str = ORCHESTRATION_USER) -> str:
    """A service's user in the ``service`` project (as DevStack makes Heat's and Glance's): it holds no role
    on any tenant's project (the orchestration user acts only through the trusts stack owners give it)."""
    project = _ensure(session, Project, {"id": new_id(), "parent_id": "default", "tags": [], "options": {},
                                         "extra": {}, "description": "The cloud's services"},
                      name="service", domain_id="default")
    user = _one(session, User, name=name, domain_id="default")
    if user is None:
        user = User(id=new_id(), name=name, domain_id="default", default_project_id=project.id,
                    options={"ignore_password_expiry": True, "ignore_change_password_upon_first_use": True,
                             "ignore_lockout_failure_attempts": True}, extra={})
        session.add(user)
        session.flush()
        store_password(session, user, password, settings, hashed=hashed)
    _grant(session, "UserProject", user.id, project.id, service_role.id)
    return user.id


def _network_defaults(runtime: Runtime) -> None:
    """DevStack's public/private networks and router1, once in the cloud's life (the marker keeps an
    operator's deletions deleted)."""
    marker = runtime.settings.data_dir / NETWORK_DEFAULTS_MARKER
    if marker.exists():
        return
    with runtime.db.read() as session:
        ids = dict(session.execute(select(Project.name, Project.id).where(
            Project.name.in_(("admin", "demo")), Project.domain_id == "default")).all())
    runtime.network.ensure_defaults(ids["admin"], ids["demo"])
    marker.write_text("made by the first start: public, public-subnet, private, private-subnet, router1\n")


def _sync_catalog(session, base: str, region: str) -> None:
    for service_type, name, path in CATALOG:
        service = None
        for row in session.scalars(select(CatalogService).where(CatalogService.type == service_type)):
            if (row.extra or {}).get("onestack"):
                service = row
        if service is None:
            service = CatalogService(id=new_id(), type=service_type, enabled=True,
                                     extra={"name": name, "onestack": True})
            session.add(service)
            session.flush()
        for interface in INTERFACES:
            endpoint = _one(session, Endpoint, service_id=service.id, interface=interface, region_id=region)
            if endpoint is None:
                session.add(Endpoint(id=new_id(), service_id=service.id, interface=interface, region_id=region,
                                     url=base + path, enabled=True, extra={}))
            elif endpoint.url != base + path:
                endpoint.url = base + path


def clouds(settings, found: dict) -> dict:
    auth_url = f"{settings.base_url}/identity"

    def entry(user: str, password: str, **scope) -> dict:
        auth = {"auth_url": auth_url, "username": user, "password": password, "user_domain_name": "Default",
                **scope}
        made = {"auth": auth, "region_name": settings.region, "interface": "public", "identity_api_version": 3}
        # a cloud serving HTTPS with its own CA: clients verify it with that CA (openstacksdk's ``cacert``)
        return {**made, "cacert": str(ca)} if ca else made

    ca = tls.ca_path(settings)
    project = {"project_name": None, "project_domain_name": "Default"}
    return {
        "onestack": entry("demo", found["demo_password"], **{**project, "project_name": "demo"}),
        "onestack-admin": entry("admin", found["admin_password"], **{**project, "project_name": "admin"}),
        "onestack-system-admin": entry("admin", found["admin_password"], system_scope="all"),
    }


def openrc(entry: dict) -> str:
    auth = entry["auth"]
    lines = [f"export OS_AUTH_URL={auth['auth_url']}", f"export OS_USERNAME={auth['username']}",
             f"export OS_PASSWORD='{auth['password']}'", "export OS_USER_DOMAIN_NAME=Default",
             f"export OS_PROJECT_NAME={auth['project_name']}", "export OS_PROJECT_DOMAIN_NAME=Default",
             f"export OS_REGION_NAME={entry['region_name']}", "export OS_IDENTITY_API_VERSION=3",
             "export OS_INTERFACE=public"]
    if entry.get("cacert"):
        lines.append(f"export OS_CACERT={entry['cacert']}")
    return "\n".join(lines) + "\n"


def write_client_files(settings, found: dict, user_config: Path | None) -> None:
    """DATA_DIR/clouds.yaml, DATA_DIR/openrc-*, and our entries merged into the user's clouds.yaml."""
    entries = clouds(settings, found)
    write_private(settings.data_dir / "clouds.yaml", yaml.safe_dump({"clouds": entries}, sort_keys=False))
    write_private(settings.data_dir / "openrc-admin", openrc(entries["onestack-admin"]))
    write_private(settings.data_dir / "openrc-demo", openrc(entries["onestack"]))
    if user_config is None:
        return
    existing = yaml.safe_load(user_config.read_text()) if user_config.exists() else None
    existing = existing if isinstance(existing, dict) else {}
    merged_clouds = dict(existing.get("clouds") or {})
    merged_clouds.update(entries)
    write_private(user_config, yaml.safe_dump({**existing, "clouds": merged_clouds}, sort_keys=False))


def user_clouds_path() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "openstack" / "clouds.yaml"

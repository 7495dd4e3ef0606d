"""Neutron's default policies (secure RBAC): members change their project's resources, readers read,
admins do everything and alone set provider, sharing and binding attributes (see the ``admin`` flag
in each attribute table)."""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, PROJECT_MEMBER, PROJECT_READER, SYSTEM_READER, Rule, enforce, role

ADMIN_OR_MEMBER = ADMIN | PROJECT_MEMBER
ADMIN_OR_READER = ADMIN | PROJECT_READER | SYSTEM_READER
# Neutron's port bindings are for the services that move guests (Nova), never for a project's members.
ADMIN_OR_SERVICE = ADMIN | role("service")

# Operations whose rule differs from the default for their verb.
SPECIAL: dict[str, Rule] = {
    "get_agent": ADMIN,
    "update_quota": ADMIN,
    "delete_quota": ADMIN,
    "get_quota": ADMIN_OR_READER,
    "create_address_scope_shared": ADMIN,
    "create_subnetpool_shared": ADMIN,
    "create_subnetpool_is_default": ADMIN,
    "get_port_binding": ADMIN_OR_SERVICE,
    "create_port_binding": ADMIN_OR_SERVICE,
    "update_port_binding": ADMIN_OR_SERVICE,
    "delete_port_binding": ADMIN_OR_SERVICE,
    "activate_port_binding": ADMIN_OR_SERVICE,
}


def rule(verb: str, resource: str) -> Rule:
    found = SPECIAL.get(f"{verb}_{resource}")
    if found is not None:
        return found
    return ADMIN_OR_READER if verb == "get" else ADMIN_OR_MEMBER


def authorize(ctx: Context, verb: str, resource: str, target: dict | None = None, *, action: str = "") -> None:
    """Whether ``ctx`` may ``verb`` a ``resource`` (``get``, ``create``, ``update``, ``delete``) of the
    project in ``target``; ``action`` names the policy where Neutron gives the operation its own name
    (``add_router_interface``), which then follows ``verb``'s rule."""
    enforce(ctx, action or f"{verb}_{resource}", rule(verb, resource), target or {})


def sees_everything(ctx) -> bool:
    """Admins and system readers list every project's resources, as in Neutron."""
    return ctx.is_admin or SYSTEM_READER(ctx)

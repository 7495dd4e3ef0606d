"""Nova's default policies for the catalogue: admins manage flavors and quotas, everyone reads flavors,
readers read their own project's quotas and limits, a keypair belongs to its user (admins act for others).

As in Nova's defaults, ``ADMIN`` is the admin role on any project (``role:admin``).
"""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, ALWAYS, OWNER, PROJECT_READER, Rule, enforce

ADMIN_OR_READER = ADMIN | PROJECT_READER
ADMIN_OR_OWNER = ADMIN | OWNER

RULES: dict[str, Rule] = {
    "os_compute_api:os-flavor-manage:create": ADMIN,
    "os_compute_api:os-flavor-manage:update": ADMIN,
    "os_compute_api:os-flavor-manage:delete": ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": ADMIN_OR_READER,
    "os_compute_api:os-flavor-extra-specs:show": ADMIN_OR_READER,
    "os_compute_api:os-flavor-extra-specs:create": ADMIN,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN,
    "os_compute_api:os-flavor-access": ADMIN,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN,
    "os_compute_api:os-keypairs:index": ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:create": ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:show": ADMIN_OR_OWNER,
    "os_compute_api:os-keypairs:delete": ADMIN_OR_OWNER,
    "os_compute_api:os-quota-sets:show": ADMIN_OR_READER,
    "os_compute_api:os-quota-sets:detail": ADMIN_OR_READER,
    "os_compute_api:os-quota-sets:defaults": ALWAYS,
    "os_compute_api:os-quota-sets:update": ADMIN,
    "os_compute_api:os-quota-sets:delete": ADMIN,
    "os_compute_api:os-quota-class-sets:show": ADMIN,
    "os_compute_api:os-quota-class-sets:update": ADMIN,
    "os_compute_api:limits": ALWAYS,
    "os_compute_api:limits:other_project": ADMIN,
}


def authorize(ctx: Context, action: str, project_id: str | None = None, user_id: str | None = None) -> None:
    """Check ``action`` against a target that is, unless told otherwise, the caller's own project and user
    (Nova's default target)."""
    target = {"project_id": project_id or ctx.project_id, "user_id": user_id or ctx.user_id}
    enforce(ctx, action, RULES[action], target)


def allowed(ctx: Context, action: str) -> bool:
    """Whether the caller passes ``action`` on its own project, for parts of a body that depend on it."""
    return RULES[action](ctx, {"project_id": ctx.project_id, "user_id": ctx.user_id})

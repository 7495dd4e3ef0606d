"""Nova's default policies (secure RBAC): admins manage flavors and quotas and alone see hosts and other
projects' servers; project members act on their servers, readers read; a keypair belongs to its user
(admins act for others).

As in Nova's defaults, ``ADMIN`` is the admin role on any project (``role:admin``).
"""

from typing import Protocol

from onestack.http.context import Context
from onestack.http.policy import ADMIN, ALWAYS, OWNER, PROJECT_MEMBER, PROJECT_READER, Rule, enforce, role

ADMIN_OR_READER = ADMIN | PROJECT_READER
ADMIN_OR_MEMBER = ADMIN | PROJECT_MEMBER
ADMIN_OR_OWNER = ADMIN | OWNER
# Nova lets the service role (Neutron, Cinder) post external events; admins could before it existed.
SERVICE_OR_ADMIN = role("service") | ADMIN



class Owned(Protocol):
    """What a policy target is made of."""

    project_id: str
    user_id: str


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
    "os_compute_api:servers:create": ADMIN_OR_MEMBER,
    "compute:servers:create:requested_destination": ADMIN,
    "os_compute_api:os-create-backup": ADMIN_OR_MEMBER,
    "os_compute_api:os-admin-password": ADMIN_OR_MEMBER,
    "os_compute_api:os-admin-actions:reset_state": ADMIN,
    "os_compute_api:os-shelve:unshelve_to_host": ADMIN,
    "os_compute_api:os-admin-actions:inject_network_info": ADMIN,
    "os_compute_api:os-deferred-delete:restore": ADMIN_OR_MEMBER,
    "os_compute_api:os-deferred-delete:force": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-password:show": ADMIN_OR_READER,
    "os_compute_api:os-server-password:clear": ADMIN_OR_MEMBER,
    "os_compute_api:servers:show": ADMIN_OR_READER,
    "os_compute_api:servers:index": ADMIN_OR_READER,
    "os_compute_api:servers:update": ADMIN_OR_MEMBER,
    "os_compute_api:servers:delete": ADMIN_OR_MEMBER,
    "os_compute_api:servers:start": ADMIN_OR_MEMBER,
    "os_compute_api:servers:stop": ADMIN_OR_MEMBER,
    "os_compute_api:servers:reboot": ADMIN_OR_MEMBER,
    "os_compute_api:os-pause-server:pause": ADMIN_OR_MEMBER,
    "os_compute_api:os-suspend-server:suspend": ADMIN_OR_MEMBER,
    "os_compute_api:os-lock-server:lock": ADMIN_OR_MEMBER,
    "os_compute_api:os-lock-server:unlock": ADMIN_OR_MEMBER,
    "os_compute_api:server-metadata:update": ADMIN_OR_MEMBER,
    "os_compute_api:server-metadata:index": ADMIN_OR_READER,
    "os_compute_api:os-instance-actions:list": ADMIN_OR_READER,
    "os_compute_api:os-server-groups:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-groups:index": ADMIN_OR_READER,
    "os_compute_api:os-server-groups:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-availability-zone:list": ADMIN_OR_READER,
    "os_compute_api:os-console-output": ADMIN_OR_MEMBER,
    "os_compute_api:os-remote-consoles": ADMIN_OR_MEMBER,
    "os_compute_api:os-console-auth-tokens": ADMIN,
    "os_compute_api:ips:index": ADMIN_OR_READER,
    "os_compute_api:os-services:list": ADMIN,
    "os_compute_api:os-hypervisors:list": ADMIN,
    # The proxy APIs (deprecated at 2.36); images have no Nova rule: the image service decides.
    "os_compute_api:os-volumes:list": ADMIN_OR_READER,
    "os_compute_api:os-volumes:detail": ADMIN_OR_READER,
    "os_compute_api:os-volumes:show": ADMIN_OR_READER,
    "os_compute_api:os-volumes:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes:snapshots:list": ADMIN_OR_READER,
    "os_compute_api:os-volumes:snapshots:detail": ADMIN_OR_READER,
    "os_compute_api:os-volumes:snapshots:show": ADMIN_OR_READER,
    "os_compute_api:os-volumes:snapshots:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes:snapshots:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:get": ADMIN_OR_READER,
    "os_compute_api:os-security-groups:show": ADMIN_OR_READER,
    "os_compute_api:os-security-groups:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:update": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:rule:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:rule:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:list": ADMIN_OR_READER,
    "os_compute_api:os-security-groups:add": ADMIN_OR_MEMBER,
    "os_compute_api:os-security-groups:remove": ADMIN_OR_MEMBER,
    "os_compute_api:os-floating-ips:list": ADMIN_OR_READER,
    "os_compute_api:os-floating-ips:show": ADMIN_OR_READER,
    "os_compute_api:os-floating-ips:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-floating-ips:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-floating-ips:add": ADMIN_OR_MEMBER,
    "os_compute_api:os-floating-ips:remove": ADMIN_OR_MEMBER,
    "os_compute_api:os-floating-ip-pools": ALWAYS,
    "os_compute_api:os-networks:list": ADMIN_OR_READER,
    "os_compute_api:os-networks:view": ADMIN_OR_READER,
    "os_compute_api:os-tenant-networks:list": ADMIN_OR_READER,
    "os_compute_api:os-tenant-networks:show": ADMIN_OR_READER,
    "os_compute_api:servers:resize": ADMIN_OR_MEMBER,
    "os_compute_api:servers:confirm_resize": ADMIN_OR_MEMBER,
    "os_compute_api:servers:revert_resize": ADMIN_OR_MEMBER,
    "os_compute_api:servers:rebuild": ADMIN_OR_MEMBER,
    "os_compute_api:servers:create_image": ADMIN_OR_MEMBER,
    "os_compute_api:os-shelve:shelve": ADMIN_OR_MEMBER,
    "os_compute_api:os-shelve:shelve_offload": ADMIN,
    "os_compute_api:os-shelve:unshelve": ADMIN_OR_MEMBER,
    "os_compute_api:os-rescue": ADMIN_OR_MEMBER,
    "os_compute_api:os-unrescue": ADMIN_OR_MEMBER,
    "os_compute_api:os-attach-interfaces:list": ADMIN_OR_READER,
    "os_compute_api:os-attach-interfaces:show": ADMIN_OR_READER,
    "os_compute_api:os-attach-interfaces:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-attach-interfaces:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes-attachments:index": ADMIN_OR_READER,
    "os_compute_api:os-volumes-attachments:show": ADMIN_OR_READER,
    "os_compute_api:os-volumes-attachments:create": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes-attachments:update": ADMIN_OR_MEMBER,
    "os_compute_api:os-volumes-attachments:swap": ADMIN,
    "os_compute_api:os-volumes-attachments:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-tags:index": ADMIN_OR_READER,
    "os_compute_api:os-server-tags:show": ADMIN_OR_READER,
    "os_compute_api:os-server-tags:update": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-tags:update_all": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-tags:delete": ADMIN_OR_MEMBER,
    "os_compute_api:os-server-tags:delete_all": ADMIN_OR_MEMBER,
    "os_compute_api:os-hypervisors:uptime": ADMIN,
    "os_compute_api:os-hypervisors:search": ADMIN,
    "os_compute_api:os-hypervisors:servers": ADMIN,
    "os_compute_api:os-services:update": ADMIN,
    "os_compute_api:os-availability-zone:detail": ADMIN,
    "os_compute_api:os-aggregates:index": ADMIN,
    "os_compute_api:os-aggregates:create": ADMIN,
    "os_compute_api:os-aggregates:show": ADMIN,
    "os_compute_api:os-aggregates:update": ADMIN,
    "os_compute_api:os-aggregates:delete": ADMIN,
    "os_compute_api:os-aggregates:add_host": ADMIN,
    "os_compute_api:os-aggregates:remove_host": ADMIN,
    "os_compute_api:os-aggregates:set_metadata": ADMIN,
    "os_compute_api:os-hosts:list": ADMIN,
    "os_compute_api:os-hosts:show": ADMIN,
    "os_compute_api:os-hosts:update": ADMIN,
    "os_compute_api:os-hosts:reboot": ADMIN,
    "os_compute_api:os-hosts:shutdown": ADMIN,
    "os_compute_api:os-hosts:start": ADMIN,
    "os_compute_api:os-simple-tenant-usage:list": ADMIN,
    "os_compute_api:os-simple-tenant-usage:show": ADMIN_OR_READER,
    "os_compute_api:os-instance-usage-audit-log:list": ADMIN,
    "os_compute_api:os-instance-usage-audit-log:show": ADMIN,
    "os_compute_api:os-migrations:index": ADMIN,
    "os_compute_api:os-migrate-server:migrate": ADMIN,
    "os_compute_api:os-migrate-server:migrate:host": ADMIN,
    "os_compute_api:os-migrate-server:migrate_live": ADMIN,
    "os_compute_api:os-evacuate": ADMIN,
    "os_compute_api:servers:migrations:index": ADMIN,
    "os_compute_api:servers:migrations:show": ADMIN,
    "os_compute_api:servers:migrations:force_complete": ADMIN,
    "os_compute_api:servers:migrations:delete": ADMIN,
    "os_compute_api:os-server-diagnostics": ADMIN,
    "os_compute_api:os-server-external-events:create": SERVICE_OR_ADMIN,
    "os_compute_api:os-assisted-volume-snapshots:create": SERVICE_OR_ADMIN,
    "os_compute_api:os-assisted-volume-snapshots:delete": SERVICE_OR_ADMIN,
    "os_compute_api:extensions": ALWAYS,
}


def authorize(ctx: Context, action: str, owner: Owned | None = None, *, project_id: str | None = None,
              user_id: str | None = None) -> None:
    """Check ``action`` against what it acts on: ``owner`` (a server, say: its project and user), or the
    ``project_id`` and ``user_id`` given, or else the caller's own project and user (Nova's default target)."""
    if owner is not None:
        target = {"project_id": owner.project_id, "user_id": owner.user_id}
    else:
        target = {"project_id": project_id or ctx.project_id, "user_id": user_id or ctx.user_id}
    enforce(ctx, action, RULES[action], target)


def allowed(ctx: Context, action: str) -> bool:
    """Whether the caller passes ``action`` on its own project, for parts of a body that depend on it."""
    return RULES[action](ctx, {"project_id": ctx.project_id, "user_id": ctx.user_id})

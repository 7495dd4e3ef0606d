"""Cinder's default policies (secure RBAC): admins manage types, quotas, services and every project's
volumes; a project's members act on its volumes, snapshots and attachments, its readers read them.

As in Cinder's defaults, ``ADMIN`` is the admin role on any project (``role:admin``).
"""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, ALWAYS, PROJECT_MEMBER, PROJECT_READER, SYSTEM_READER, Rule, enforce

ADMIN_OR_READER = ADMIN | SYSTEM_READER | PROJECT_READER
ADMIN_OR_MEMBER = ADMIN | PROJECT_MEMBER

RULES: dict[str, Rule] = {
    "volume:create": ADMIN_OR_MEMBER,
    "volume:get": ADMIN_OR_READER,
    "volume:get_all": ADMIN_OR_READER,
    "volume:update": ADMIN_OR_MEMBER,
    "volume:delete": ADMIN_OR_MEMBER,
    "volume:extend": ADMIN_OR_MEMBER,
    "volume:extend_attached_volume": ADMIN_OR_MEMBER,
    "volume:retype": ADMIN_OR_MEMBER,
    "volume:get_volume_metadata": ADMIN_OR_READER,
    "volume:update_volume_metadata": ADMIN_OR_MEMBER,
    "volume:update_readonly_flag": ADMIN_OR_MEMBER,
    "volume_extension:volume_actions:set_bootable": ADMIN_OR_MEMBER,
    "volume_extension:volume_actions:attach": ADMIN_OR_MEMBER,
    "volume_extension:volume_actions:upload_image": ADMIN_OR_MEMBER,
    "volume_extension:volume_actions:upload_public": ADMIN,
    "volume_extension:volume_image_metadata:show": ADMIN_OR_READER,
    "volume_extension:volume_image_metadata:set": ADMIN_OR_MEMBER,
    "volume_extension:volume_image_metadata:remove": ADMIN_OR_MEMBER,
    "volume_extension:volume_admin_actions:reset_status": ADMIN,
    "volume_extension:volume_admin_actions:force_delete": ADMIN,
    "volume_extension:volume_admin_actions:force_detach": ADMIN,
    "volume:create_snapshot": ADMIN_OR_MEMBER,
    "volume:get_snapshot": ADMIN_OR_READER,
    "volume:get_all_snapshots": ADMIN_OR_READER,
    "volume:update_snapshot": ADMIN_OR_MEMBER,
    "volume:delete_snapshot": ADMIN_OR_MEMBER,
    "volume:update_snapshot_metadata": ADMIN_OR_MEMBER,
    "volume_extension:snapshot_admin_actions:reset_status": ADMIN,
    "volume_extension:snapshot_admin_actions:force_delete": ADMIN,
    "backup:create": ADMIN_OR_MEMBER,
    "backup:get": ADMIN_OR_READER,
    "backup:get_all": ADMIN_OR_READER,
    "backup:update": ADMIN_OR_MEMBER,
    "backup:delete": ADMIN_OR_MEMBER,
    "backup:restore": ADMIN_OR_MEMBER,
    "backup:backup-export": ADMIN,
    "backup:backup-import": ADMIN,
    "backup:backup_project_attribute": ADMIN,
    "volume_extension:backup_admin_actions:reset_status": ADMIN,
    "volume_extension:backup_admin_actions:force_delete": ADMIN,
    "volume:create_transfer": ADMIN_OR_MEMBER,
    "volume:accept_transfer": ADMIN_OR_MEMBER,
    "volume:delete_transfer": ADMIN_OR_MEMBER,
    "volume:get_transfer": ADMIN_OR_READER,
    "volume:get_all_transfers": ADMIN_OR_READER,
    "volume_extension:qos_specs_manage:create": ADMIN,
    "volume_extension:qos_specs_manage:get": ADMIN | SYSTEM_READER,
    "volume_extension:qos_specs_manage:get_all": ADMIN | SYSTEM_READER,
    "volume_extension:qos_specs_manage:update": ADMIN,
    "volume_extension:qos_specs_manage:delete": ADMIN,
    "message:get": ADMIN_OR_READER,
    "message:get_all": ADMIN_OR_READER,
    "message:delete": ADMIN_OR_MEMBER,
    "volume:attachment_create": ADMIN_OR_MEMBER,
    "volume:attachment_get": ADMIN_OR_READER,
    "volume:attachment_update": ADMIN_OR_MEMBER,
    "volume:attachment_complete": ADMIN_OR_MEMBER,
    "volume:attachment_delete": ADMIN_OR_MEMBER,
    "volume_extension:type_get": ALWAYS,
    "volume_extension:types_manage": ADMIN,
    "volume_extension:volume_type_access": ADMIN,
    "volume_extension:default_get": ADMIN_OR_READER,
    "volume_extension:default_set": ADMIN,
    "volume_extension:default_get_all": ADMIN,
    "volume_extension:quotas:show": ADMIN_OR_READER,
    "volume_extension:quotas:update": ADMIN,
    "volume_extension:quotas:delete": ADMIN,
    "volume_extension:quota_classes": ADMIN,
    "limits_extension:used_limits": ALWAYS,
    "volume_extension:availability_zone_list": ALWAYS,
    "volume_extension:services:index": ADMIN,
    "volume_extension:services:update": ADMIN,
    "snapshot_extension:snapshot_actions:update_snapshot_status": ADMIN_OR_MEMBER,
    "scheduler_extension:scheduler_stats:get_pools": ADMIN,
    "volume_extension:capabilities": ADMIN,
    "volume_extension:hosts": ADMIN,
}


def authorize(ctx: Context, action: str, project_id: str | None = None) -> None:
    """Raise Forbidden unless ``ctx`` may do ``action`` on a resource of ``project_id`` (default: its own)."""
    enforce(ctx, action, RULES[action], {"project_id": project_id or ctx.project_id})

"""Heat's default policies (secure RBAC): a project's readers read its stacks, its members make, change and
delete them; admins may list every project's stacks (``global_tenant``); anyone may read the catalogue of
resource types, template versions and the build."""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, ALWAYS, PROJECT_MEMBER, PROJECT_READER, SYSTEM_READER, Rule, enforce

ADMIN_OR_READER = ADMIN | SYSTEM_READER | PROJECT_READER
ADMIN_OR_MEMBER = ADMIN | PROJECT_MEMBER

RULES: dict[str, Rule] = {
    "stacks:index": ADMIN_OR_READER,
    "stacks:global_index": ADMIN | SYSTEM_READER,
    "stacks:lookup": ADMIN_OR_READER,
    "stacks:show": ADMIN_OR_READER,
    "stacks:template": ADMIN_OR_READER,
    "stacks:environment": ADMIN_OR_READER,
    "stacks:files": ADMIN_OR_READER,
    "stacks:list_outputs": ADMIN_OR_READER,
    "stacks:show_output": ADMIN_OR_READER,
    "stacks:create": ADMIN_OR_MEMBER,
    "stacks:preview": ADMIN_OR_MEMBER,
    "stacks:update": ADMIN_OR_MEMBER,
    "stacks:update_patch": ADMIN_OR_MEMBER,
    "stacks:delete": ADMIN_OR_MEMBER,
    "stacks:validate_template": ADMIN_OR_MEMBER,
    "stacks:list_resource_types": ALWAYS,
    "stacks:resource_schema": ALWAYS,
    "stacks:list_template_versions": ALWAYS,
    "stacks:list_template_functions": ALWAYS,
    "resource:index": ADMIN_OR_READER,
    "resource:show": ADMIN_OR_READER,
    "resource:metadata": ADMIN_OR_READER,
    "events:index": ADMIN_OR_READER,
    "events:show": ADMIN_OR_READER,
    "build_info:build_info": ALWAYS,
}


def authorize(ctx: Context, action: str, project_id: str | None = None) -> None:
    """Raise Forbidden unless ``ctx`` may do ``action`` on a resource of ``project_id`` (default: its own)."""
    enforce(ctx, action, RULES[action], {"project_id": project_id or ctx.project_id})

"""Heat's default policies (secure RBAC): a project's readers read its stacks, its members make, change and
delete them; admins may list every project's stacks (``global_tenant``); anyone may read the catalogue of
resource types, template versions and the build."""

from onestack.http.policy import (
    ADMIN,
    ADMIN_OR_PROJECT_MEMBER,
    ADMIN_OR_PROJECT_READER,
    ALWAYS,
    SYSTEM_READER,
    Rule,
    project_authorizer,
)

RULES: dict[str, Rule] = {
    "stacks:index": ADMIN_OR_PROJECT_READER,
    "stacks:global_index": ADMIN | SYSTEM_READER,
    "stacks:lookup": ADMIN_OR_PROJECT_READER,
    "stacks:show": ADMIN_OR_PROJECT_READER,
    "stacks:template": ADMIN_OR_PROJECT_READER,
    "stacks:environment": ADMIN_OR_PROJECT_READER,
    "stacks:files": ADMIN_OR_PROJECT_READER,
    "stacks:list_outputs": ADMIN_OR_PROJECT_READER,
    "stacks:show_output": ADMIN_OR_PROJECT_READER,
    "stacks:create": ADMIN_OR_PROJECT_MEMBER,
    "stacks:preview": ADMIN_OR_PROJECT_MEMBER,
    "stacks:update": ADMIN_OR_PROJECT_MEMBER,
    "stacks:update_patch": ADMIN_OR_PROJECT_MEMBER,
    "stacks:delete": ADMIN_OR_PROJECT_MEMBER,
    "stacks:preview_update": ADMIN_OR_PROJECT_MEMBER,
    "stacks:preview_update_patch": ADMIN_OR_PROJECT_MEMBER,
    "actions:suspend": ADMIN_OR_PROJECT_MEMBER,
    "actions:resume": ADMIN_OR_PROJECT_MEMBER,
    "actions:check": ADMIN_OR_PROJECT_READER,
    "actions:cancel_update": ADMIN_OR_PROJECT_MEMBER,
    "actions:cancel_without_rollback": ADMIN_OR_PROJECT_MEMBER,
    "stacks:validate_template": ADMIN_OR_PROJECT_MEMBER,
    "stacks:list_resource_types": ALWAYS,
    "stacks:resource_schema": ALWAYS,
    "stacks:list_template_versions": ALWAYS,
    "stacks:list_template_functions": ALWAYS,
    "resource:index": ADMIN_OR_PROJECT_READER,
    "resource:show": ADMIN_OR_PROJECT_READER,
    "resource:metadata": ADMIN_OR_PROJECT_READER,
    "events:index": ADMIN_OR_PROJECT_READER,
    "events:show": ADMIN_OR_PROJECT_READER,
    "resource:mark_unhealthy": ADMIN_OR_PROJECT_MEMBER,
    "resource:signal": ADMIN_OR_PROJECT_MEMBER,
    "resource_types:template": ALWAYS,
    "software_configs:index": ADMIN_OR_PROJECT_READER,
    "software_configs:show": ADMIN_OR_PROJECT_READER,
    "software_configs:create": ADMIN_OR_PROJECT_MEMBER,
    "software_configs:delete": ADMIN_OR_PROJECT_MEMBER,
    "software_deployments:index": ADMIN_OR_PROJECT_READER,
    "software_deployments:show": ADMIN_OR_PROJECT_READER,
    "software_deployments:metadata": ADMIN_OR_PROJECT_READER,
    "software_deployments:create": ADMIN_OR_PROJECT_MEMBER,
    "software_deployments:update": ADMIN_OR_PROJECT_MEMBER,
    "software_deployments:delete": ADMIN_OR_PROJECT_MEMBER,
    "build_info:build_info": ALWAYS,
}


authorize = project_authorizer(RULES)

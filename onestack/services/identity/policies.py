"""Keystone's default policies (secure RBAC personas), as rules.

Like Keystone's own defaults, a user holding ``admin`` on any scope is still
the cloud administrator for identity; readers are limited to what their
system or domain scope covers, and everyone may manage what is their own.
``authorize`` is the one check every identity handler makes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from onestack.http.context import Context
from onestack.http.policy import (
    ADMIN,
    ALWAYS,
    DOMAIN_MANAGER,
    DOMAIN_READER,
    OWNER,
    SYSTEM_READER,
    Rule,
    enforce,
    target_matches,
)

ADMIN_OR_SYSTEM_READER = ADMIN | SYSTEM_READER
DOMAIN_ADMIN = ADMIN | DOMAIN_MANAGER
DOMAIN_VISIBLE = ADMIN_OR_SYSTEM_READER | DOMAIN_READER
PROJECT_SELF = target_matches("project_id", "project_id")
DOMAIN_SELF = target_matches("domain_id", "domain_id") | target_matches("project_domain_id", "domain_id")
SERVICE = Rule(lambda c, t: "service" in c.roles, "role:service")
# A domain manager hands out only the roles below its own, never admin (Keystone's manager persona).
MANAGER_GRANTABLE = Rule(lambda c, t: t.get("role_name") in ("manager", "member", "reader"),
                         "'target.role.name' in ['manager', 'member', 'reader']")

RULES: dict[str, Rule] = {
    "identity:get_domain": DOMAIN_VISIBLE | DOMAIN_SELF,
    "identity:list_domains": ADMIN_OR_SYSTEM_READER,
    "identity:create_domain": ADMIN,
    "identity:update_domain": ADMIN,
    "identity:delete_domain": ADMIN,
    "identity:get_project": DOMAIN_VISIBLE | PROJECT_SELF,
    "identity:list_projects": DOMAIN_VISIBLE,
    "identity:list_user_projects": DOMAIN_VISIBLE | OWNER,
    "identity:create_project": DOMAIN_ADMIN,
    "identity:update_project": DOMAIN_ADMIN,
    "identity:delete_project": DOMAIN_ADMIN,
    "identity:project_tags": DOMAIN_VISIBLE | PROJECT_SELF,
    "identity:update_project_tags": DOMAIN_ADMIN,
    "identity:get_user": DOMAIN_VISIBLE | OWNER,
    "identity:list_users": DOMAIN_VISIBLE,
    "identity:create_user": DOMAIN_ADMIN,
    "identity:update_user": DOMAIN_ADMIN,
    "identity:delete_user": DOMAIN_ADMIN,
    "identity:get_group": DOMAIN_VISIBLE,
    "identity:list_groups": DOMAIN_VISIBLE,
    "identity:list_groups_for_user": DOMAIN_VISIBLE | OWNER,
    "identity:list_users_in_group": DOMAIN_VISIBLE,
    "identity:check_user_in_group": DOMAIN_VISIBLE,
    "identity:create_group": DOMAIN_ADMIN,
    "identity:update_group": DOMAIN_ADMIN,
    "identity:delete_group": DOMAIN_ADMIN,
    "identity:add_user_to_group": DOMAIN_ADMIN,
    "identity:remove_user_from_group": DOMAIN_ADMIN,
    "identity:get_role": ADMIN_OR_SYSTEM_READER | DOMAIN_MANAGER,
    "identity:list_roles": ADMIN_OR_SYSTEM_READER | DOMAIN_MANAGER,
    "identity:create_role": ADMIN,
    "identity:update_role": ADMIN,
    "identity:delete_role": ADMIN,
    "identity:implied_roles": ADMIN_OR_SYSTEM_READER,
    "identity:manage_implied_roles": ADMIN,
    "identity:list_grants": DOMAIN_VISIBLE,
    "identity:manage_grants": ADMIN | (DOMAIN_MANAGER & MANAGER_GRANTABLE),
    "identity:list_role_assignments": DOMAIN_VISIBLE,
    "identity:list_system_grants": ADMIN_OR_SYSTEM_READER,
    "identity:manage_system_grants": ADMIN,
    "identity:get_region": ALWAYS,
    "identity:list_regions": ALWAYS,
    "identity:manage_regions": ADMIN,
    "identity:get_service": ADMIN_OR_SYSTEM_READER,
    "identity:list_services": ADMIN_OR_SYSTEM_READER,
    "identity:manage_services": ADMIN,
    "identity:get_endpoint": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoints": ADMIN_OR_SYSTEM_READER,
    "identity:manage_endpoints": ADMIN,
    "identity:get_application_credential": ADMIN_OR_SYSTEM_READER | OWNER,
    "identity:create_application_credential": OWNER,
    "identity:delete_application_credential": ADMIN | OWNER,
    "identity:access_rules": ADMIN_OR_SYSTEM_READER | OWNER,
    "identity:delete_access_rule": ADMIN | OWNER,
    "identity:get_credential": ADMIN_OR_SYSTEM_READER | OWNER,
    "identity:manage_credential": ADMIN | OWNER,
    "identity:get_policy": ADMIN_OR_SYSTEM_READER,
    "identity:manage_policies": ADMIN,
    "identity:get_endpoint_group": ADMIN_OR_SYSTEM_READER,
    "identity:manage_endpoint_groups": ADMIN,
    "identity:create_trust": target_matches("user_id", "trustor_user_id"),
    "identity:list_trusts": ADMIN_OR_SYSTEM_READER,
    "identity:get_trust": ADMIN_OR_SYSTEM_READER | target_matches("user_id", "trustor_user_id")
    | target_matches("user_id", "trustee_user_id"),
    "identity:delete_trust": ADMIN | target_matches("user_id", "trustor_user_id"),
    "identity:get_registered_limit": ALWAYS,
    "identity:manage_registered_limits": ADMIN,
    "identity:get_limit": DOMAIN_VISIBLE | PROJECT_SELF | target_matches("domain_id", "domain_id"),
    "identity:manage_limits": ADMIN,
    "identity:get_limit_model": ALWAYS,
    "identity:get_domain_config": ADMIN_OR_SYSTEM_READER,
    "identity:manage_domain_config": ADMIN,
    "identity:get_domain_config_default": ADMIN_OR_SYSTEM_READER,
    "identity:get_consumer": ADMIN_OR_SYSTEM_READER,
    "identity:manage_consumers": ADMIN,
    # Any user may authorize a request token, but only with roles they hold on its project (checked there).
    "identity:authorize_request_token": ALWAYS,
    "identity:access_tokens": ADMIN_OR_SYSTEM_READER | OWNER,
    "identity:delete_access_token": ADMIN | OWNER,
    "identity:validate_token": ADMIN_OR_SYSTEM_READER | SERVICE | OWNER,
    "identity:revoke_token": ADMIN | SERVICE | OWNER,
}


# What a service calls with the target of a row it has just loaded, before it acts on the row: the
# handler builds it from ``authorize`` so the rule is checked inside the service's transaction.
Check = Callable[[dict], None]


def authorize(ctx: Context, action: str, target: Mapping[str, Any] | None = None) -> None:
    enforce(ctx, action, RULES[action], target)

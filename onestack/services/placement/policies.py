"""Placement's default policies: admins and the ``service`` role (Nova, Neutron) do everything; a project
reader may also read its own project's total usages."""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, PROJECT_READER, Rule, enforce, role

ADMIN_OR_SERVICE = ADMIN | role("service")
ADMIN_OR_PROJECT_READER_OR_SERVICE = ADMIN_OR_SERVICE | PROJECT_READER

# Placement names its rules after the resource (placement:resource_providers:list ...); one rule per
# resource group is enough here because every action in a group has the same default.
RULES: dict[str, Rule] = {
    "resource_providers": ADMIN_OR_SERVICE,
    "inventories": ADMIN_OR_SERVICE,
    "aggregates": ADMIN_OR_SERVICE,
    "traits": ADMIN_OR_SERVICE,
    "resource_classes": ADMIN_OR_SERVICE,
    "allocations": ADMIN_OR_SERVICE,
    "allocation_candidates": ADMIN_OR_SERVICE,
    "usages": ADMIN_OR_SERVICE,
    "total_usages": ADMIN_OR_PROJECT_READER_OR_SERVICE,
    "reshaper": ADMIN_OR_SERVICE,
}


def authorize(ctx: Context, group: str, target: dict | None = None) -> None:
    enforce(ctx, f"placement:{group}", RULES[group], target)

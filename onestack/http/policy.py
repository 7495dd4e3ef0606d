"""Policy: OpenStack's default personas as small composable rules.

A rule is a predicate over (context, target).  Services declare a table
``action -> rule`` and call ``enforce``; the personas below are written once
here so every service speaks the same language as oslo.policy's defaults
(``role:admin``, ``role:reader and system_scope:all``, ``project_id:%(project_id)s`` ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from onestack.http.context import Context
from onestack.http.errors import Forbidden


class Rule:
    def __init__(self, check: Callable[[Context, Mapping[str, Any]], bool], text: str):
        self._check = check
        self.text = text

    def __call__(self, ctx: Context, target: Mapping[str, Any] | None = None) -> bool:
        return bool(self._check(ctx, target or {}))

    def __or__(self, other: Rule) -> Rule:
        return Rule(lambda c, t: self._check(c, t) or other._check(c, t), f"({self.text}) or ({other.text})")

    def __and__(self, other: Rule) -> Rule:
        return Rule(lambda c, t: self._check(c, t) and other._check(c, t), f"({self.text}) and ({other.text})")

    def __repr__(self) -> str:
        return f"Rule({self.text})"


def role(name: str) -> Rule:
    return Rule(lambda c, t: name in c.roles, f"role:{name}")


def target_matches(ctx_attr: str, target_key: str) -> Rule:
    """``ctx_attr`` of the caller equals ``target[target_key]`` (and is set)."""

    def check(c: Context, t: Mapping[str, Any]) -> bool:
        mine = getattr(c, ctx_attr)
        return mine is not None and mine == t.get(target_key)

    return Rule(check, f"{ctx_attr}:%({target_key})s")


ALWAYS = Rule(lambda c, t: True, "@")
SYSTEM_SCOPE = Rule(lambda c, t: c.is_system, "system_scope:all")
ADMIN = role("admin")
SYSTEM_ADMIN = ADMIN & SYSTEM_SCOPE
SYSTEM_READER = role("reader") & SYSTEM_SCOPE
PROJECT_ADMIN = ADMIN & target_matches("project_id", "project_id")
PROJECT_MEMBER = role("member") & target_matches("project_id", "project_id")
PROJECT_READER = role("reader") & target_matches("project_id", "project_id")
DOMAIN_MANAGER = role("manager") & target_matches("domain_id", "domain_id")
DOMAIN_READER = role("reader") & target_matches("domain_id", "domain_id")
OWNER = target_matches("user_id", "user_id")

# Cinder's and Heat's secure-RBAC defaults: the admin role anywhere, or a system reader or the project's own
# reader for reads, its own member for changes.
ADMIN_OR_PROJECT_READER = ADMIN | SYSTEM_READER | PROJECT_READER
ADMIN_OR_PROJECT_MEMBER = ADMIN | PROJECT_MEMBER


def enforce(ctx: Context, action: str, rule: Rule, target: Mapping[str, Any] | None = None) -> None:
    if not rule(ctx, target):
        raise Forbidden(f"You are not authorized to perform the requested action: {action}.")


def project_authorizer(rules: Mapping[str, Rule]) -> Callable[[Context, str, str | None], None]:
    """A service's ``authorize(ctx, action, project_id=None)`` over its table of ``rules``, for services whose
    every target is a project's resource."""
    def authorize(ctx: Context, action: str, project_id: str | None = None) -> None:
        """Raise Forbidden unless ``ctx`` may do ``action`` on a resource of ``project_id`` (default: its own)."""
        enforce(ctx, action, rules[action], {"project_id": project_id or ctx.project_id})
    return authorize

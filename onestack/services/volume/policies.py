"""Volume's default policies: admins manage everything, a project's members act on its resources and
its readers read them (system-scoped readers read every project's)."""

from onestack.http.context import Context
from onestack.http.policy import ADMIN, PROJECT_MEMBER, PROJECT_READER, SYSTEM_READER, Rule, enforce

ADMIN_OR_READER = ADMIN | SYSTEM_READER | PROJECT_READER
ADMIN_OR_MEMBER = ADMIN | PROJECT_MEMBER

RULES: dict[str, Rule] = {
    "volume:get": ADMIN_OR_READER,
    "volume:create": ADMIN_OR_MEMBER,
}


def authorize(ctx: Context, action: str, project_id: str | None = None) -> None:
    """Raise Forbidden unless ``ctx`` may do ``action`` on a resource of ``project_id`` (default: its own)."""
    enforce(ctx, action, RULES[action], {"project_id": project_id or ctx.project_id})

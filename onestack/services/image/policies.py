"""Glance's default policies (secure RBAC): owners' members change (deactivate too), readers read, admins publish."""

from onestack.http.policy import ADMIN, ALWAYS, PROJECT_MEMBER, PROJECT_READER, Rule

OWNER_MEMBER = ADMIN | PROJECT_MEMBER
OWNER_READER = ADMIN | PROJECT_READER
VISIBLE = OWNER_READER | Rule(lambda c, t: t.get("visibility") in ("public", "community"),
                              "'public' or 'community' visibility")

RULES: dict[str, Rule] = {
    "add_image": OWNER_MEMBER,
    "get_image": VISIBLE,
    "get_images": ALWAYS,
    "modify_image": OWNER_MEMBER,
    "delete_image": OWNER_MEMBER,
    "upload_image": OWNER_MEMBER,
    "publicize_image": ADMIN,
    "communitize_image": OWNER_MEMBER,
    "deactivate": OWNER_MEMBER,
    "reactivate": OWNER_MEMBER,
    "copy_image": ADMIN,
    "tasks_api_access": ADMIN,
}

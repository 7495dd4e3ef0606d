"""Glance's default policies (secure RBAC): owners' members change (deactivate too), readers read, admins publish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onestack.http.context import Context
from onestack.http.policy import ADMIN, ALWAYS, PROJECT_MEMBER, PROJECT_READER, Rule, enforce

if TYPE_CHECKING:
    from onestack.services.image.models import Image

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
    # removing the data from one store of several (DELETE /v2/stores/...): Glance's delete_image_location
    "delete_image_location": ADMIN,
    "tasks_api_access": ADMIN,
    # Metadata definitions: admins change them; who reads a namespace is its visibility's rule.
    "add_metadef_namespace": ADMIN,
    "modify_metadef_namespace": ADMIN,
    "delete_metadef_namespace": ADMIN,
    "add_metadef_resource_type_association": ADMIN,
    "remove_metadef_resource_type_association": ADMIN,
    "add_metadef_object": ADMIN,
    "modify_metadef_object": ADMIN,
    "delete_metadef_object": ADMIN,
    "delete_metadef_objects": ADMIN,
    "add_metadef_property": ADMIN,
    "modify_metadef_property": ADMIN,
    "delete_metadef_property": ADMIN,
    "delete_metadef_propertys": ADMIN,
    "add_metadef_tag": ADMIN,
    "add_metadef_tags": ADMIN,
    "modify_metadef_tag": ADMIN,
    "delete_metadef_tag": ADMIN,
    "delete_metadef_tags": ADMIN,
}


def authorize(ctx: Context, action: str, image: Image | None = None) -> None:
    """``image``: the image acted on (its owner and visibility are the rule's target), if any."""
    target = {"project_id": image.owner, "visibility": image.visibility} if image is not None else {}
    enforce(ctx, action, RULES[action], target)

"""Identity's projects and roles, made through the Identity API (``/v3``): they need an admin's rights,
as Heat's do, and a member's stack fails with Keystone's 403."""

from __future__ import annotations

from onestack.services.orchestration.service.resources.base import Handle, Prop, ResourceType, ignore_missing


class Project(ResourceType):
    name = "OS::Keystone::Project"
    description = "Heat Template Resource for Keystone Project."
    properties = {
        "name": Prop("string", "Name of keystone project.", update=True),
        "domain": Prop("string", "Name or id of keystone domain.", default="default", update=True),
        "description": Prop("string", "Description of keystone project.", default="", update=True),
        "enabled": Prop("boolean", "This project is enabled or disabled.", default=True, update=True),
        "parent": Prop("string", "The name or ID of parent of this keystone project in hierarchy."),
        "tags": Prop("list", "A list of tags for labeling and sorting projects.", default=[], update=True,
                     schema=Prop("string")),
    }
    attributes = {"name": "Project name.", "domain_id": "Domain id for project.", "enabled": "Flag of "
                  "enable project.", "is_domain": "Indicates whether the project also acts as a domain.",
                  "parent_id": "Parent project id."}

    def create(self, h: Handle) -> None:
        p = h.properties
        project = {"name": h.name_or_physical(), "domain_id": p["domain"], "description": p["description"],
                   "enabled": p["enabled"], "tags": p["tags"]}
        if p.get("parent"):
            project["parent_id"] = p["parent"]
        h.physical_id = h.cloud.post("identity", "/v3/projects", {"project": project})["project"]["id"]

    def update(self, h: Handle, old: dict, new: dict) -> None:
        changes = {"name": h.name_or_physical(), "description": new["description"], "enabled": new["enabled"],
                   "tags": new["tags"]}
        h.cloud.call("identity", "PATCH", f"/v3/projects/{h.physical_id}", {"project": changes})

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("identity", "/v3/projects", "projects")

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("identity", f"/v3/projects/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        project = h.cloud.get("identity", f"/v3/projects/{h.physical_id}")["project"]
        return project if name == "show" else project.get(name)


class Role(ResourceType):
    name = "OS::Keystone::Role"
    description = "Heat Template Resource for Keystone Role."
    properties = {
        "name": Prop("string", "Name of keystone role.", update=True),
        "domain": Prop("string", "Name or id of keystone domain (a domain-specific role)."),
    }

    def create(self, h: Handle) -> None:
        role = {"name": h.name_or_physical()}
        if h.properties.get("domain"):
            role["domain_id"] = h.properties["domain"]
        h.physical_id = h.cloud.post("identity", "/v3/roles", {"role": role})["role"]["id"]

    def update(self, h: Handle, old: dict, new: dict) -> None:
        h.cloud.call("identity", "PATCH", f"/v3/roles/{h.physical_id}", {"role": {"name": h.name_or_physical()}})

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("identity", "/v3/roles", "roles")

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("identity", f"/v3/roles/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        return h.cloud.get("identity", f"/v3/roles/{h.physical_id}")["role"] if name == "show" else None


TYPES = (Project, Role)

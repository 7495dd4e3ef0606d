"""Identity's projects, roles, domains, groups, users, regions, services and endpoints, made through the Identity API (``/v3``): they need an admin's rights,
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


class Entity(ResourceType):
    """An Identity record made by one POST and changed by PATCH: ``fields`` maps properties to its fields."""

    collection: str = ""
    key: str = ""
    fields: dict[str, str] = {}
    # Properties named in ``fields`` that a change applies in place (the rest replace the record).
    named: bool = True

    def body(self, h: Handle) -> dict:
        body = {field: h.properties[prop] for prop, field in self.fields.items()
                if h.properties.get(prop) is not None}
        if self.named:
            body["name"] = h.name_or_physical()
        return body

    def create(self, h: Handle) -> None:
        made = h.cloud.post("identity", self.collection, {self.key: self.body(h)})[self.key]
        h.physical_id = made["id"]
        self.after_create(h)

    def after_create(self, h: Handle) -> None:
        """What the record needs beyond its own fields (a user's roles and groups)."""

    def update(self, h: Handle, old: dict, new: dict) -> None:
        changes = {f: v for f, v in self.body(h).items() if f != "password" or old.get("password") != v}
        h.cloud.call("identity", "PATCH", f"{self.collection}/{h.physical_id}", {self.key: changes})
        self.after_update(h, old, new)

    def after_update(self, h: Handle, old: dict, new: dict) -> None:
        pass

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("identity", self.collection, f"{self.key}s") if self.named else None

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("identity", f"{self.collection}/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        record = h.cloud.get("identity", f"{self.collection}/{h.physical_id}")[self.key]
        return record if name == "show" else record.get(name)


class Domain(Entity):
    name = "OS::Keystone::Domain"
    description = "Heat Template Resource for Keystone Domain."
    collection, key = "/v3/domains", "domain"
    fields = {"description": "description", "enabled": "enabled"}
    properties = {
        "name": Prop("string", "The name of the domain.", update=True),
        "description": Prop("string", "Description of keystone domain.", default="", update=True),
        "enabled": Prop("boolean", "This domain is enabled or disabled.", default=True, update=True),
    }

    def delete(self, h: Handle) -> None:
        # Keystone deletes only a disabled domain.
        path = f"{self.collection}/{h.physical_id}"
        ignore_missing(lambda: h.cloud.call("identity", "PATCH", path, {"domain": {"enabled": False}}))
        ignore_missing(lambda: h.cloud.delete("identity", path))


class InDomain(Entity):
    """A record made in a domain, given once: Keystone does not move a group or user to another domain."""

    def body(self, h: Handle) -> dict:
        return {k: v for k, v in super().body(h).items() if k != "domain_id" or not h.physical_id}


class Group(InDomain):
    name = "OS::Keystone::Group"
    description = "Heat Template Resource for Keystone Group."
    collection, key = "/v3/groups", "group"
    fields = {"description": "description", "domain": "domain_id"}
    properties = {
        "name": Prop("string", "Name of keystone group.", update=True),
        "domain": Prop("string", "Name or id of keystone domain.", default="default"),
        "description": Prop("string", "Description of keystone group.", default="", update=True),
    }



ROLE_ON_PROJECT = Prop("map", schema={"role": Prop("string", "Keystone role.", required=True),
                                      "project": Prop("string", "Keystone project.", required=True)})


class User(InDomain):
    name = "OS::Keystone::User"
    description = "Heat Template Resource for Keystone User."
    collection, key = "/v3/users", "user"
    fields = {"description": "description", "domain": "domain_id", "enabled": "enabled", "email": "email",
              "password": "password", "default_project": "default_project_id"}
    properties = {
        "name": Prop("string", "Name of keystone user.", update=True),
        "domain": Prop("string", "Name or ID of keystone domain.", default="default"),
        "description": Prop("string", "Description of keystone user.", default="", update=True),
        "enabled": Prop("boolean", "Keystone user is enabled or disabled.", default=True, update=True),
        "email": Prop("string", "Email address of keystone user.", update=True),
        "password": Prop("string", "Password of keystone user.", update=True),
        "default_project": Prop("string", "Name or ID of default project of keystone user.", update=True),
        "groups": Prop("list", "Keystone user groups.", default=[], update=True, schema=Prop("string")),
        "roles": Prop("list", "List of role assignments.", default=[], update=True, schema=ROLE_ON_PROJECT),
    }
    attributes = {"name": "User name.", "default_project_id": "Default project id for user.",
                  "domain_id": "Domain id for user.", "enabled": "Flag of enable user.",
                  "password_expires_at": "Show user password expiration time."}

    def _memberships(self, h: Handle, old: dict, new: dict) -> None:
        user = h.physical_id
        for group in sorted(set(new.get("groups") or []) - set(old.get("groups") or [])):
            h.cloud.put("identity", f"/v3/groups/{group}/users/{user}")
        for group in sorted(set(old.get("groups") or []) - set(new.get("groups") or [])):
            ignore_missing(lambda group=group: h.cloud.delete("identity", f"/v3/groups/{group}/users/{user}"))
        before = {(r["project"], r["role"]) for r in old.get("roles") or []}
        after = {(r["project"], r["role"]) for r in new.get("roles") or []}
        for project, role in sorted(after - before):
            h.cloud.put("identity", f"/v3/projects/{project}/users/{user}/roles/{role}")
        for project, role in sorted(before - after):
            ignore_missing(lambda project=project, role=role: h.cloud.delete(
                "identity", f"/v3/projects/{project}/users/{user}/roles/{role}"))

    def after_create(self, h: Handle) -> None:
        self._memberships(h, {}, h.properties)

    def after_update(self, h: Handle, old: dict, new: dict) -> None:
        self._memberships(h, old, new)


class Region(Entity):
    name = "OS::Keystone::Region"
    description = "Heat Template Resource for Keystone Region."
    collection, key = "/v3/regions", "region"
    fields = {"description": "description", "parent_region": "parent_region_id", "enabled": "enabled"}
    named = False
    properties = {
        "id": Prop("string", "The user-defined region ID and should unique to the OpenStack deployment."),
        "description": Prop("string", "Description of keystone region.", default="", update=True),
        "parent_region": Prop("string", "If the region is hierarchically a child of another region, set this "
                              "parameter to the ID of the parent region.", update=True),
        "enabled": Prop("boolean", "This region is enabled or disabled.", default=True, update=True),
    }

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        if h.properties.get("id") and not h.physical_id:
            body["id"] = h.properties["id"]
        return body


class Service(Entity):
    name = "OS::Keystone::Service"
    description = "Heat Template Resource for Keystone Service."
    collection, key = "/v3/services", "service"
    fields = {"description": "description", "type": "type", "enabled": "enabled"}
    properties = {
        "name": Prop("string", "Name of keystone service.", update=True),
        "description": Prop("string", "Description of keystone service.", update=True),
        "type": Prop("string", "Type of keystone Service.", required=True, update=True),
        "enabled": Prop("boolean", "This service is enabled or disabled.", default=True, update=True),
    }


class Endpoint(Entity):
    name = "OS::Keystone::Endpoint"
    description = "Heat Template Resource for Keystone Service Endpoint."
    collection, key = "/v3/endpoints", "endpoint"
    named = False
    fields = {"region": "region_id", "service": "service_id", "url": "url", "interface": "interface",
              "enabled": "enabled"}
    properties = {
        "region": Prop("string", "Name or Id of keystone region.", update=True),
        "service": Prop("string", "Name or Id of keystone service.", required=True, update=True),
        "interface": Prop("string", "Interface type of keystone service endpoint.", required=True, update=True,
                          allowed=("public", "internal", "admin")),
        "url": Prop("string", "URL of keystone service endpoint.", required=True, update=True),
        "enabled": Prop("boolean", "This endpoint is enabled or disabled.", default=True, update=True),
    }


TYPES = (Project, Role, Domain, Group, User, Region, Service, Endpoint)

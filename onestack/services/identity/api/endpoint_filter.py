"""/v3/OS-EP-FILTER: endpoint groups and the endpoints and groups given to projects."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, identity, views
from onestack.services.identity.endpoint_filter import group_endpoints
from onestack.services.identity.models import (
    Endpoint,
    EndpointGroup,
    Project,
    ProjectEndpoint,
    ProjectEndpointGroup,
)
from onestack.services.identity.store import get

BASE = "/v3/OS-EP-FILTER"


def _view(call: Call, g: EndpointGroup) -> dict:
    return {"id": g.id, "name": g.name, "description": g.description, "filters": dict(g.filters or {}),
            "links": {"self": call.url(f"{BASE}/endpoint_groups/{g.id}")}}


def _group(session: Session, call: Call) -> EndpointGroup:
    return get(session, EndpointGroup, call.path["group_id"], "endpoint group")


def _project(session: Session, call: Call) -> Project:
    row = session.get(Project, call.path["project_id"])
    if row is None or row.is_domain:
        raise NotFound(f"Could not find project: {call.path['project_id']}.")
    return row


def _listing(key: str, items: list, url: str) -> dict:
    return {key: items, "links": {"self": url, "previous": None, "next": None}}


def create_group(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    body = call.body["endpoint_group"]
    with identity(call).store.write() as session:
        row = EndpointGroup(id=new_id(), name=body["name"], description=body.get("description"),
                            filters=body["filters"])
        session.add(row)
        return Reply({"endpoint_group": _view(call, row)}, 201)


def list_groups(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    with identity(call).store.read() as session:
        stmt = select(EndpointGroup).order_by(EndpointGroup.name)
        if "name" in call.query:
            stmt = stmt.where(EndpointGroup.name == call.query["name"])
        rows = session.scalars(stmt).all()
    return _listing("endpoint_groups", [_view(call, g) for g in rows], call.url(f"{BASE}/endpoint_groups"))


def get_group(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    with identity(call).store.read() as session:
        return {"endpoint_group": _view(call, _group(session, call))}


def update_group(call: Call) -> dict:
    authorize(call, "identity:manage_endpoint_groups")
    body = call.body["endpoint_group"]
    with identity(call).store.write() as session:
        row = _group(session, call)
        for key in ("name", "description", "filters"):
            if key in body:
                setattr(row, key, body[key])
        return {"endpoint_group": _view(call, row)}


def delete_group(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    with identity(call).store.write() as session:
        row = _group(session, call)
        session.execute(delete(ProjectEndpointGroup).where(ProjectEndpointGroup.endpoint_group_id == row.id))
        session.delete(row)
    return Reply(status=204)


def group_endpoints_list(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    v = views(call)
    with identity(call).store.read() as session:
        rows = group_endpoints(session, _group(session, call))
    return _listing("endpoints", [v.endpoint(e) for e in rows], call.url(call.request.url.path))


def group_projects(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    v = views(call)
    with identity(call).store.read() as session:
        group = _group(session, call)
        rows = session.scalars(select(Project).join(
            ProjectEndpointGroup, ProjectEndpointGroup.project_id == Project.id).where(
            ProjectEndpointGroup.endpoint_group_id == group.id)).all()
    return _listing("projects", [v.project(p) for p in rows], call.url(call.request.url.path))


def add_group_to_project(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    with identity(call).store.write() as session:
        group, project = _group(session, call), _project(session, call)
        if session.get(ProjectEndpointGroup, (project.id, group.id)) is None:
            session.add(ProjectEndpointGroup(project_id=project.id, endpoint_group_id=group.id))
    return Reply(status=204)


def show_group_project(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    with identity(call).store.read() as session:
        group, project = _group(session, call), _project(session, call)
        if session.get(ProjectEndpointGroup, (project.id, group.id)) is None:
            raise NotFound(f"Endpoint group {group.id} is not associated with project {project.id}.")
        return {"project": views(call).project(project)}


def remove_group_from_project(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    with identity(call).store.write() as session:
        group, project = _group(session, call), _project(session, call)
        link = session.get(ProjectEndpointGroup, (project.id, group.id))
        if link is None:
            raise NotFound(f"Endpoint group {group.id} is not associated with project {project.id}.")
        session.delete(link)
    return Reply(status=204)


def project_groups(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    with identity(call).store.read() as session:
        project = _project(session, call)
        rows = session.scalars(select(EndpointGroup).join(
            ProjectEndpointGroup, ProjectEndpointGroup.endpoint_group_id == EndpointGroup.id).where(
            ProjectEndpointGroup.project_id == project.id)).all()
    return _listing("endpoint_groups", [_view(call, g) for g in rows], call.url(call.request.url.path))


def _endpoint_link(session: Session, call: Call) -> tuple[Project, Endpoint, ProjectEndpoint | None]:
    project = _project(session, call)
    endpoint = get(session, Endpoint, call.path["endpoint_id"], "endpoint")
    return project, endpoint, session.get(ProjectEndpoint, (project.id, endpoint.id))


def add_endpoint_to_project(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    with identity(call).store.write() as session:
        project, endpoint, link = _endpoint_link(session, call)
        if link is None:
            session.add(ProjectEndpoint(project_id=project.id, endpoint_id=endpoint.id))
    return Reply(status=204)


def check_endpoint_in_project(call: Call) -> Reply:
    authorize(call, "identity:get_endpoint_group")
    with identity(call).store.read() as session:
        project, endpoint, link = _endpoint_link(session, call)
        if link is None:
            raise NotFound(f"Endpoint {endpoint.id} is not associated with project {project.id}.")
    return Reply(status=204)


def remove_endpoint_from_project(call: Call) -> Reply:
    authorize(call, "identity:manage_endpoint_groups")
    with identity(call).store.write() as session:
        project, endpoint, link = _endpoint_link(session, call)
        if link is None:
            raise NotFound(f"Endpoint {endpoint.id} is not associated with project {project.id}.")
        session.delete(link)
    return Reply(status=204)


def project_endpoints(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    v = views(call)
    with identity(call).store.read() as session:
        project = _project(session, call)
        rows = session.scalars(select(Endpoint).join(ProjectEndpoint, ProjectEndpoint.endpoint_id == Endpoint.id)
                               .where(ProjectEndpoint.project_id == project.id)).all()
    return _listing("endpoints", [v.endpoint(e) for e in rows], call.url(call.request.url.path))


def endpoint_projects(call: Call) -> dict:
    authorize(call, "identity:get_endpoint_group")
    v = views(call)
    with identity(call).store.read() as session:
        endpoint = get(session, Endpoint, call.path["endpoint_id"], "endpoint")
        rows = session.scalars(select(Project).join(ProjectEndpoint, ProjectEndpoint.project_id == Project.id)
                               .where(ProjectEndpoint.endpoint_id == endpoint.id)).all()
    return _listing("projects", [v.project(p) for p in rows], call.url(call.request.url.path))


GROUP = f"{BASE}/endpoint_groups/{{group_id}}"
PROJECT = f"{BASE}/projects/{{project_id}}"
ROUTES = [
    route(f"{BASE}/endpoint_groups", "POST", create_group, schema=schemas.endpoint_group_create),
    route(f"{BASE}/endpoint_groups", "GET", list_groups),
    route(GROUP, "GET", get_group),
    route(GROUP, "PATCH", update_group, schema=schemas.endpoint_group_update),
    route(GROUP, "DELETE", delete_group),
    route(f"{GROUP}/endpoints", "GET", group_endpoints_list),
    route(f"{GROUP}/projects", "GET", group_projects),
    route(f"{GROUP}/projects/{{project_id}}", "PUT", add_group_to_project),
    route(f"{GROUP}/projects/{{project_id}}", "GET", show_group_project),
    route(f"{GROUP}/projects/{{project_id}}", "DELETE", remove_group_from_project),
    route(f"{PROJECT}/endpoint_groups", "GET", project_groups),
    route(f"{PROJECT}/endpoints", "GET", project_endpoints),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "PUT", add_endpoint_to_project),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "HEAD", check_endpoint_in_project),
    route(f"{PROJECT}/endpoints/{{endpoint_id}}", "DELETE", remove_endpoint_from_project),
    route(f"{BASE}/endpoints/{{endpoint_id}}/projects", "GET", endpoint_projects),
]

"""OS-EP-FILTER: endpoint groups, and which endpoints a project's catalog shows.

A project with endpoints or endpoint groups associated sees only those; a
project with none sees the whole catalog (Keystone's
``return_all_endpoints_if_no_filter``, on by default).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import NotFound
from onestack.services.identity.models import (
    Endpoint,
    EndpointGroup,
    Project,
    ProjectEndpoint,
    ProjectEndpointGroup,
)
from onestack.services.identity.service.rows import assign, get, listed
from onestack.services.identity.service.transactions import Transactions


def matches(endpoint: Endpoint, filters: dict) -> bool:
    return all(getattr(endpoint, key, None) == value for key, value in filters.items())


def group_endpoints(session: Session, group: EndpointGroup) -> list[Endpoint]:
    return [e for e in session.scalars(select(Endpoint).order_by(Endpoint.id)) if matches(e, group.filters or {})]


def project_endpoint_ids(session: Session, project_id: str) -> set[str] | None:
    """The endpoints a project may see, or None when nothing narrows its catalog."""
    direct = set(session.scalars(select(ProjectEndpoint.endpoint_id).where(ProjectEndpoint.project_id == project_id)))
    groups = session.scalars(select(EndpointGroup).join(
        ProjectEndpointGroup, ProjectEndpointGroup.endpoint_group_id == EndpointGroup.id).where(
        ProjectEndpointGroup.project_id == project_id)).all()
    for group in groups:
        direct |= {e.id for e in group_endpoints(session, group)}
    return direct or None


def _group(session: Session, group_id: str) -> EndpointGroup:
    return get(session, EndpointGroup, group_id, "endpoint group")


def _project(session: Session, project_id: str) -> Project:
    row = session.get(Project, project_id)
    if row is None or row.is_domain:
        raise NotFound(f"Could not find project: {project_id}.")
    return row


def _endpoint_link(session: Session, project_id: str, endpoint_id: str) -> tuple[Project, Endpoint,
                                                                                  ProjectEndpoint | None]:
    project = _project(session, project_id)
    endpoint = get(session, Endpoint, endpoint_id, "endpoint")
    return project, endpoint, session.get(ProjectEndpoint, (project.id, endpoint.id))


def _linked(session: Session, model, link_column, given) -> list:
    """The rows of ``model`` a link table ties to one given row: ``link_column`` is the link's column
    holding ``model``'s id, ``given`` the condition on its other column."""
    return list(session.scalars(select(model).join(link_column.class_, link_column == model.id).where(given)))


def _not_given(endpoint: Endpoint, project: Project) -> NotFound:
    return NotFound(f"Endpoint {endpoint.id} is not associated with project {project.id}.")


def _group_not_given(group: EndpointGroup, project: Project) -> NotFound:
    return NotFound(f"Endpoint group {group.id} is not associated with project {project.id}.")


class EndpointFilter:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    # -- endpoint groups -----------------------------------------------------------
    def create_group(self, body: dict) -> EndpointGroup:
        with self.transactions.write() as session:
            row = EndpointGroup(id=new_id(), name=body["name"], description=body.get("description"),
                                filters=body["filters"])
            session.add(row)
        return row

    def list_groups(self, name: str | None) -> list[EndpointGroup]:
        stmt = select(EndpointGroup).order_by(EndpointGroup.name)
        if name is not None:
            stmt = stmt.where(EndpointGroup.name == name)
        return listed(self.transactions, stmt)

    def get_group(self, group_id: str) -> EndpointGroup:
        with self.transactions.read() as session:
            return _group(session, group_id)

    def update_group(self, group_id: str, body: dict) -> EndpointGroup:
        with self.transactions.write() as session:
            row = _group(session, group_id)
            assign(row, body, ("name", "description", "filters"))
        return row

    def delete_group(self, group_id: str) -> None:
        with self.transactions.write() as session:
            row = _group(session, group_id)
            session.execute(delete(ProjectEndpointGroup).where(ProjectEndpointGroup.endpoint_group_id == row.id))
            session.delete(row)

    def group_endpoints(self, group_id: str) -> list[Endpoint]:
        with self.transactions.read() as session:
            return group_endpoints(session, _group(session, group_id))

    def group_projects(self, group_id: str) -> list[Project]:
        with self.transactions.read() as session:
            group = _group(session, group_id)
            return _linked(session, Project, ProjectEndpointGroup.project_id, ProjectEndpointGroup.endpoint_group_id == group.id)

    # -- groups given to projects ----------------------------------------------------
    def add_group_to_project(self, group_id: str, project_id: str) -> None:
        with self.transactions.write() as session:
            group, project = _group(session, group_id), _project(session, project_id)
            if session.get(ProjectEndpointGroup, (project.id, group.id)) is None:
                session.add(ProjectEndpointGroup(project_id=project.id, endpoint_group_id=group.id))

    def group_project(self, group_id: str, project_id: str) -> Project:
        """The project, if the group is given to it."""
        with self.transactions.read() as session:
            group, project = _group(session, group_id), _project(session, project_id)
            if session.get(ProjectEndpointGroup, (project.id, group.id)) is None:
                raise _group_not_given(group, project)
            return project

    def remove_group_from_project(self, group_id: str, project_id: str) -> None:
        with self.transactions.write() as session:
            group, project = _group(session, group_id), _project(session, project_id)
            link = session.get(ProjectEndpointGroup, (project.id, group.id))
            if link is None:
                raise _group_not_given(group, project)
            session.delete(link)

    def project_groups(self, project_id: str) -> list[EndpointGroup]:
        with self.transactions.read() as session:
            project = _project(session, project_id)
            return _linked(session, EndpointGroup, ProjectEndpointGroup.endpoint_group_id, ProjectEndpointGroup.project_id == project.id)

    # -- endpoints given to projects -------------------------------------------------
    def add_endpoint_to_project(self, project_id: str, endpoint_id: str) -> None:
        with self.transactions.write() as session:
            project, endpoint, link = _endpoint_link(session, project_id, endpoint_id)
            if link is None:
                session.add(ProjectEndpoint(project_id=project.id, endpoint_id=endpoint.id))

    def check_endpoint_in_project(self, project_id: str, endpoint_id: str) -> None:
        with self.transactions.read() as session:
            project, endpoint, link = _endpoint_link(session, project_id, endpoint_id)
            if link is None:
                raise _not_given(endpoint, project)

    def remove_endpoint_from_project(self, project_id: str, endpoint_id: str) -> None:
        with self.transactions.write() as session:
            project, endpoint, link = _endpoint_link(session, project_id, endpoint_id)
            if link is None:
                raise _not_given(endpoint, project)
            session.delete(link)

    def project_endpoints(self, project_id: str) -> list[Endpoint]:
        with self.transactions.read() as session:
            project = _project(session, project_id)
            return _linked(session, Endpoint, ProjectEndpoint.endpoint_id, ProjectEndpoint.project_id == project.id)

    def endpoint_projects(self, endpoint_id: str) -> list[Project]:
        with self.transactions.read() as session:
            endpoint = get(session, Endpoint, endpoint_id, "endpoint")
            return _linked(session, Project, ProjectEndpoint.project_id, ProjectEndpoint.endpoint_id == endpoint.id)

"""Stacks as requests change them: create, update and delete write the desired definition and the action
the engine is to converge it to.  Besides Identity, for the trust, other services are asked (with that
trust) only whether the things parameters' custom constraints name exist."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from sqlalchemy import select

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, Forbidden, NotFound
from onestack.services.orchestration.models import Stack, StackEvent, StackResource, StackSnapshot
from onestack.services.orchestration.service import changes, constraints
from onestack.services.orchestration.service.cloud import Cloud, CloudError
from onestack.services.orchestration.service.definition import Definition, environment
from onestack.services.orchestration.service.hot.template import load
from onestack.services.orchestration.service.remote import Remote
from onestack.services.orchestration.service.resources.base import StackInfo

NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")
STACK_TYPE = "OS::Heat::Stack"


def definition_of(stack: Stack) -> Definition:
    return Definition(stack.template, stack.files, stack.environment, stack.parameters,
                      StackInfo(stack.id, stack.name, stack.project_id, stack.facade))


def event(session, stack: Stack, action: str, status: str, reason: str, *, resource: StackResource | None = None
          ) -> None:
    """One transition, of the stack itself or of one of its resources."""
    if resource is None:
        name, physical, kind = stack.name, stack.id, STACK_TYPE
    else:
        name, physical, kind = resource.name, resource.physical_id or "", resource.type
    session.add(StackEvent(id=str(uuid.uuid4()), stack_id=stack.id, resource_name=name,
                           physical_resource_id=physical, resource_type=kind, action=action, status=status,
                           reason=reason, created_at=utcnow()))


def begin(session, stack: Stack, action: str, rollback_of: str | None = None) -> None:
    """Start ``action``: a new generation, so steps of the one before write nothing more.  A ROLLBACK
    names the action it undoes."""
    stack.action, stack.status, stack.rollback_of = action, "IN_PROGRESS", rollback_of
    stack.status_reason = f"Stack {action} started"
    stack.generation += 1
    stack.action_started_at = utcnow()
    if action != "CREATE":
        stack.updated_at = utcnow()
    event(session, stack, action, "IN_PROGRESS", stack.status_reason)


def _tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return value
    raise BadRequest("tags must be a comma-separated string or a list of strings")


def _timeout(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid timeout value {value!r}: a number of minutes") from None
    if minutes <= 0:
        raise BadRequest(f"Invalid timeout value {value!r}: a positive number of minutes")
    return minutes


def _flag(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes", "on", "t", "y"):
        return True
    if text in ("false", "0", "no", "off", "f", "n"):
        return False
    raise BadRequest(f"Unrecognized value \"{value}\", acceptable values are: true, false")


def _template(body: dict, remote: Remote) -> dict:
    """The request's template: given, or fetched from its ``template_url`` (Heat's order)."""
    if body.get("template") is None:
        if body.get("template_url"):
            return load(remote.text(body["template_url"]), "template")
        raise BadRequest("No template specified", kind="HTTPBadRequest")
    return load(body["template"])


def _files(body: dict) -> dict:
    files = body.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise BadRequest("files must be a map of names to their contents")
    return files


def _parameters(body: dict) -> dict:
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadRequest("parameters must be a map")
    return params


class Stacks:
    def __init__(self, db: Database, cloud: Cloud, wake: Callable[[str], None], remote: Remote):
        self.db = db
        self.cloud = cloud
        self.wake = wake
        self.remote = remote

    def _trust(self, ctx: Context) -> str:
        try:
            return self.cloud.create_trust(ctx.token, ctx.user_id, ctx.project_id, sorted(ctx.roles))
        except CloudError as exc:
            if exc.status in (401, 403):
                raise Forbidden(f"The stack's trust could not be created: {exc.message}") from None
            raise BadRequest(f"The stack's trust could not be created: {exc.message}") from None

    def _constraints(self, definition, trust_id: str) -> None:
        try:
            session = self.cloud.for_trust(trust_id)
        except CloudError:
            return  # the engine reports an unusable trust on the stack itself
        constraints.check(definition, session)

    def create(self, ctx: Context, body: dict, *, preview: bool = False) -> Stack:
        """A new stack, or with ``adopt_stack_data`` (an abandoned stack's data) one that adopts the things
        that data names: ADOPT instead of CREATE, nothing made."""
        adopt = _adopt_data(body)
        if adopt is not None:
            # the abandoned stack's template, and its files, environment and parameters unless the request
            # gives its own (heatclient sends the file's text and what the command line adds)
            body = {"files": adopt.get("files") or {},
                    "environment": {k: v for k, v in (adopt.get("environment") or {}).items() if k != "parameters"},
                    "parameters": (adopt.get("environment") or {}).get("parameters") or {},
                    **{k: v for k, v in body.items() if v is not None and v != {}}, "template": adopt["template"]}
        name = body.get("stack_name")
        if not isinstance(name, str) or not NAME.match(name):
            raise BadRequest(f'Invalid stack name {name} must contain only alphanumeric or "_-." characters, '
                             'must start with alpha and must be 255 characters or less.', kind="StackValidationFailed")
        if ctx.project_id is None:
            raise Forbidden("Stacks belong to a project: use a project-scoped token")
        template, files = _template(body, self.remote), _files(body)
        env = environment(body.get("environment"), files, body.get("environment_files"))
        files = self.remote.providers(template, env, files)
        params = _parameters(body)
        stack = Stack(id=str(uuid.uuid4()), name=name, project_id=ctx.project_id, user_id=ctx.user_id,
                      username=ctx.user_name, template=template, files=files, environment=env, parameters=params,
                      action="CREATE" if adopt is None else "ADOPT", status="IN_PROGRESS", generation=0,
                      disable_rollback=_flag(body.get("disable_rollback"), True),
                      timeout_mins=_timeout(body.get("timeout_mins")), tags=_tags(body.get("tags")),
                      created_at=utcnow())
        definition = definition_of(stack)
        definition.check()
        if preview:
            return stack
        with self.db.read() as session:
            if self._named(session, ctx.project_id, name) is not None:
                raise Conflict(f"The Stack ({name}) already exists.", kind="StackExists")
        stack.trust_id = self._trust(ctx)
        try:
            self._constraints(definition, stack.trust_id)
        except BadRequest:
            try:
                self.cloud.delete_trust(stack.trust_id)
            except CloudError:
                pass  # an unused delegation; the refusal is what the caller must hear
            raise
        with self.db.write() as session:
            if self._named(session, ctx.project_id, name) is not None:
                raise Conflict(f"The Stack ({name}) already exists.", kind="StackExists")
            session.add(stack)
            begin(session, stack, stack.action)
            if adopt is not None:
                _adopted_rows(session, stack, definition, adopt["resources"])
        self.wake(stack.id)
        return stack

    def abandon(self, stack: Stack) -> dict:
        """Forget the stack, keeping every thing its resources stand for; the data ``adopt`` takes back."""
        with self.db.write() as session:
            row = self._idle(session, stack)
            data = stack_data(session, row)
            begin(session, row, "DELETE")
            trust = row.trust_id if row.owner_id is None else None
            _forget(session, row)
        if trust:
            try:
                self.cloud.delete_trust(trust)
            except CloudError:
                pass  # the stack is gone either way; an unused delegation is all that is left
        return data

    @staticmethod
    def _named(session, project_id: str, name: str) -> Stack | None:
        return session.scalars(select(Stack).where(Stack.project_id == project_id, Stack.name == name,
                                                   Stack.deleted_at.is_(None))).first()

    def candidate(self, stack: Stack, body: dict, *, patch: bool) -> Stack:
        """The stack as an update ``body`` would make it, checked (not saved): PUT replaces the definition;
        PATCH (``existing``) keeps what the request leaves out."""
        if stack.status == "IN_PROGRESS":
            raise Conflict(f"Stack {stack.name} [{stack.id}] is {stack.action}_IN_PROGRESS: updating a stack "
                           "while an action is in progress is not supported.", kind="ActionInProgress")
        if patch and body.get("template") is None and not body.get("template_url"):
            template = stack.template
        else:
            template = _template(body, self.remote)
        files = {**(stack.files if patch else {}), **_files(body)}
        env = environment(body.get("environment"), files, body.get("environment_files"))
        files = self.remote.providers(template, env, files)
        if patch:
            env = {section: {**(stack.environment.get(section) or {}), **(env.get(section) or {})}
                   if isinstance(env.get(section), dict) else env.get(section) for section in
                   {*stack.environment, *env}}
        params = {**(stack.parameters if patch else {}), **_parameters(body)}
        for cleared in body.get("clear_parameters") or []:
            params.pop(cleared, None)
        known = set((template.get("parameters") or {}) if isinstance(template, dict) else {})
        if patch:  # parameters of the old template that the new one no longer has are dropped, not refused
            params = {k: v for k, v in params.items() if k in known or k in _parameters(body)}
        candidate = Stack(id=stack.id, name=stack.name, project_id=stack.project_id, template=template,
                          files=files, environment=env, parameters=params)
        definition = definition_of(candidate)
        definition.check()
        if stack.trust_id:
            self._constraints(definition, stack.trust_id)
        return candidate

    def update(self, stack: Stack, body: dict, *, patch: bool) -> None:
        """Give the stack the definition ``candidate`` makes of ``body`` and begin its UPDATE."""
        candidate = self.candidate(stack, body, patch=patch)
        template, files, env, params = candidate.template, candidate.files, candidate.environment, \
            candidate.parameters
        with self.db.write() as session:
            row = session.get(Stack, stack.id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
            if row.status == "IN_PROGRESS":
                raise Conflict(f"Stack {row.name} [{row.id}] is {row.action}_IN_PROGRESS.", kind="ActionInProgress")
            row.previous = {"template": row.template, "files": row.files, "environment": row.environment,
                            "parameters": row.parameters}
            row.template, row.files, row.environment, row.parameters = template, files, env, params
            if "timeout_mins" in body:
                row.timeout_mins = _timeout(body["timeout_mins"])
            if "disable_rollback" in body:
                row.disable_rollback = _flag(body["disable_rollback"], row.disable_rollback)
            if "tags" in body:
                row.tags = _tags(body["tags"])
            begin(session, row, "UPDATE")
        self.wake(stack.id)

    def delete(self, stack: Stack) -> None:
        with self.db.write() as session:
            row = session.get(Stack, stack.id)
            if row is None or row.deleted_at is not None:
                raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
            if row.action == "DELETE" and row.status == "IN_PROGRESS":
                return
            begin(session, row, "DELETE")
        self.wake(stack.id)

    def snapshot(self, stack: Stack, name: str | None) -> StackSnapshot:
        """Record the stack's data now and begin its SNAPSHOT (each resource SNAPSHOT_COMPLETE; the
        snapshot completes with it)."""
        with self.db.write() as session:
            row = self._idle(session, stack)
            taken = StackSnapshot(id=str(uuid.uuid4()), stack_id=row.id, name=name, status="IN_PROGRESS",
                                  status_reason="", data=stack_data(session, row), created_at=utcnow())
            session.add(taken)
            begin(session, row, "SNAPSHOT")
        self.wake(stack.id)
        return taken

    def restore(self, stack: Stack, snapshot: StackSnapshot) -> None:
        """Converge the stack back to the snapshot's definition (a RESTORE, run like an update)."""
        if snapshot.status != "COMPLETE":
            raise BadRequest(f"Snapshot {snapshot.id} is {snapshot.status}: only a COMPLETE one can be restored",
                             kind="NotSupported")
        data = snapshot.data or {}
        env = dict(data.get("environment") or {})
        params = env.pop("parameters", {}) or {}
        with self.db.write() as session:
            row = self._idle(session, stack)
            row.previous = {"template": row.template, "files": row.files, "environment": row.environment,
                            "parameters": row.parameters}
            row.template, row.files, row.environment, row.parameters = \
                data.get("template") or row.template, data.get("files") or {}, env, params
            begin(session, row, "RESTORE")
        self.wake(stack.id)

    @staticmethod
    def _idle(session, stack: Stack) -> Stack:
        """The stack's row, for an action to begin on: it must exist and have none under way."""
        row = session.get(Stack, stack.id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"The Stack ({stack.name}) could not be found.", kind="EntityNotFound")
        if row.status == "IN_PROGRESS":
            raise Conflict(f"Stack {row.name} [{row.id}] is {row.action}_IN_PROGRESS.", kind="ActionInProgress")
        return row

    def walk(self, stack: Stack, action: str) -> None:
        """Begin SUSPEND, RESUME or CHECK of every resource (the engine takes them through it).  A stack
        already suspended (resumed) is left as it is, as Heat does."""
        with self.db.write() as session:
            row = self._idle(session, stack)
            if action in ("SUSPEND", "RESUME") and (row.action, row.status) == (action, "COMPLETE"):
                return
            begin(session, row, action)
        self.wake(stack.id)

    def cancel_update(self, stack: Stack, rollback: bool) -> None:
        """Stop an update under way: roll back to the definition before it, or just stop (FAILED)."""
        with self.db.write() as session:
            row = session.get(Stack, stack.id)
            if row is None or row.action != "UPDATE" or row.status != "IN_PROGRESS":
                raise BadRequest(f"Cancelling update when stack is {row.action}_{row.status}" if row else
                                 "The stack is gone", kind="NotSupported")
            if rollback and row.previous:
                restore_previous(row)
                begin(session, row, "ROLLBACK", rollback_of="UPDATE")
            else:
                row.generation += 1
                row.status, row.status_reason = "FAILED", "Stack UPDATE cancelled"
                event(session, row, "UPDATE", "FAILED", row.status_reason)
        self.wake(stack.id)


def stack_data(session, row: Stack) -> dict:
    """The stack as Heat's abandon and snapshot data give it: its definition and each resource's state,
    physical id and data."""
    resources = session.scalars(select(StackResource).where(StackResource.stack_id == row.id)
                                .order_by(StackResource.created_at)).all()
    return {"id": row.id, "name": row.name, "action": row.action, "status": row.status,
            "template": row.template, "files": row.files, "project_id": row.project_id,
            "stack_user_project_id": row.project_id, "tags": row.tags or None,
            "environment": {**row.environment, "parameters": {
                **(row.environment.get("parameters") or {}), **row.parameters}},
            "resources": {r.name: {"name": r.name, "type": r.type, "action": r.action, "status": r.status,
                                   "resource_id": r.physical_id, "resource_data": r.data or {},
                                   "metadata": (r.definition or {}).get("metadata") or {}}
                          for r in resources if r.current}}


def _adopt_data(body: dict) -> dict | None:
    """``adopt_stack_data`` (heatclient sends the abandon file's text), checked: a map with its
    ``resources``."""
    given = body.get("adopt_stack_data")
    if given is None:
        return None
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except ValueError:
            raise BadRequest("Invalid adopt data: it is not JSON", kind="HTTPBadRequest") from None
    if not isinstance(given, dict) or not isinstance(given.get("resources"), dict):
        raise BadRequest("Invalid adopt data: a map with the abandoned stack's resources is expected",
                         kind="HTTPBadRequest")
    if given.get("template") is None:
        raise BadRequest("Invalid adopt data: it has no template", kind="HTTPBadRequest")
    return given


def _adopted_rows(session, stack: Stack, definition: Definition, given: dict) -> None:
    """The rows an ADOPT starts from, written with the stack: each resource with the physical id and data
    the abandoned stack had (the engine checks each thing exists and completes it)."""
    for name, resource in definition.template.resources.items():
        entry = given.get(name) if isinstance(given.get(name), dict) else {}
        row = StackResource(id=str(uuid.uuid4()), stack_id=stack.id, name=name, type=resource.type, action="ADOPT",
                            status="IN_PROGRESS", status_reason="state changed", current=True,
                            generation=stack.generation, properties={}, definition=changes.snapshot(definition, name),
                            requires=sorted(definition.requires[name]), physical_id=entry.get("resource_id") or None,
                            data=dict(entry.get("resource_data") or {}), attributes={}, created_at=utcnow())
        session.add(row)
        event(session, stack, "ADOPT", "IN_PROGRESS", "state changed", resource=row)


def _forget(session, stack: Stack) -> None:
    """An abandoned stack (and its nested stacks) gone from the records, its resources' things left."""
    for row in session.scalars(select(StackResource).where(StackResource.stack_id == stack.id)):
        session.delete(row)
    for child in session.scalars(select(Stack).where(Stack.owner_id == stack.id, Stack.deleted_at.is_(None))):
        child.generation += 1
        _forget(session, child)
    stack.status, stack.status_reason = "COMPLETE", "Stack DELETE completed successfully"
    stack.deleted_at, stack.trust_id = utcnow(), None
    event(session, stack, "DELETE", "COMPLETE", stack.status_reason)


def restore_previous(row: Stack) -> None:
    """Put back the definition an update replaced (its rollback converges to it)."""
    previous = row.previous or {}
    row.template = previous.get("template", row.template)
    row.files = previous.get("files", row.files)
    row.environment = previous.get("environment", row.environment)
    row.parameters = previous.get("parameters", row.parameters)
    row.previous = None


def check_template_only(body: dict, project_id: str, remote: Remote) -> Definition:
    """A template (with its environment and files) checked as a stack would be, for template validate:
    parameters nobody gave are simply unknown."""
    template, files = _template(body, remote), _files(body)
    env = environment(body.get("environment"), files, body.get("environment_files"))
    files = remote.providers(template, env, files)
    definition = Definition(template, files, env, _parameters(body), StackInfo("None", "None", project_id),
                            require_parameters=False)
    definition.check()
    return definition

"""Application credentials and their access rules, /v3/credentials and OS-EC2."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, future_expiry, identity
from onestack.services.identity.models import (
    AccessRule,
    ApplicationCredential,
    Credential,
    Project,
    Role,
    User,
)
from onestack.services.identity.passwords import hash_secret
from onestack.services.identity.store import conflict, get
from onestack.services.identity.views import stamp

# Application credential secrets are long random strings: a few bcrypt rounds are plenty.
APP_CRED_ROUNDS = 4


def _owner(call: Call, action: str) -> str:
    uid = call.path["user_id"]
    authorize(call, action, {"user_id": uid})
    return uid


def _rule_view(r: AccessRule) -> dict:
    return {"id": r.id, "service": r.service, "path": r.path, "method": r.method}


def _app_cred_view(call: Call, session: Session, c: ApplicationCredential) -> dict:
    roles = []
    for rid in c.role_ids:
        role = session.get(Role, rid)
        if role is not None:
            roles.append({"id": role.id, "name": role.name, "domain_id": role.domain_id or None})
    rules = [_rule_view(r) for r in (session.get(AccessRule, i) for i in c.access_rule_ids) if r is not None]
    return {
        "id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
        "project_id": c.project_id, "roles": roles, "expires_at": stamp(c.expires_at),
        "unrestricted": c.unrestricted, "access_rules": rules,
        "links": {"self": call.url(f"/v3/users/{c.user_id}/application_credentials/{c.id}")},
    }


def create_app_cred(call: Call) -> Reply:
    uid = _owner(call, "identity:create_application_credential")
    ctx = call.ctx
    if ctx.application_credential is not None and ctx.application_credential.get("restricted"):
        raise Forbidden("A restricted application credential cannot create application credentials.")
    if not ctx.project_id:
        raise Forbidden("An application credential is created from a project-scoped token.")
    body = call.body["application_credential"]
    with identity(call).store.write() as session:
        if session.scalars(select(ApplicationCredential.id).where(
                ApplicationCredential.user_id == uid, ApplicationCredential.name == body["name"])).first():
            raise conflict("application credential", "name", body["name"])
        role_ids = []
        for ref in body.get("roles") or [{"id": r} for r in sorted(ctx.role_ids)]:
            role = session.get(Role, ref["id"]) if "id" in ref else session.scalars(
                select(Role).where(Role.name == ref.get("name"), Role.domain_id == "")).first()
            if role is None or role.id not in ctx.role_ids:
                raise Forbidden(f"The caller does not hold role {ref} on project {ctx.project_id}.")
            role_ids.append(role.id)
        rule_ids = [_access_rule(session, uid, rule) for rule in body.get("access_rules") or []]
        secret = body.get("secret") or secrets.token_urlsafe(64)
        cred = ApplicationCredential(
            id=new_id(), name=body["name"], user_id=uid, project_id=ctx.project_id,
            secret_hash=hash_secret(secret, APP_CRED_ROUNDS), description=body.get("description"),
            expires_at=future_expiry(body.get("expires_at")), unrestricted=bool(body.get("unrestricted")),
            role_ids=role_ids, access_rule_ids=rule_ids,
        )
        session.add(cred)
        session.flush()
        view = _app_cred_view(call, session, cred)
    return Reply({"application_credential": {**view, "secret": secret}}, 201)


def _access_rule(session: Session, uid: str, rule: dict) -> str:
    if "id" in rule:
        row = session.get(AccessRule, rule["id"])
        if row is None or row.user_id != uid:
            raise NotFound(f"Could not find access rule: {rule['id']}.")
        return row.id
    if not {"service", "path", "method"} <= set(rule):
        raise BadRequest("An access rule needs a service, a path and a method.")
    existing = session.scalars(select(AccessRule).where(
        AccessRule.user_id == uid, AccessRule.service == rule["service"], AccessRule.path == rule["path"],
        AccessRule.method == rule["method"])).first()
    if existing is not None:
        return existing.id
    row = AccessRule(id=new_id(), user_id=uid, service=rule["service"], path=rule["path"], method=rule["method"])
    session.add(row)
    session.flush()
    return row.id


def list_app_creds(call: Call) -> dict:
    uid = _owner(call, "identity:get_application_credential")
    with identity(call).store.read() as session:
        get(session, User, uid, "user")
        stmt = select(ApplicationCredential).where(ApplicationCredential.user_id == uid)
        if "name" in call.query:
            stmt = stmt.where(ApplicationCredential.name == call.query["name"])
        items = [_app_cred_view(call, session, c) for c in session.scalars(stmt.order_by(ApplicationCredential.name))]
    return {"application_credentials": items,
            "links": {"self": call.url(f"/v3/users/{uid}/application_credentials"), "previous": None, "next": None}}


def _app_cred(session: Session, call: Call, uid: str) -> ApplicationCredential:
    cred = session.get(ApplicationCredential, call.path["cred_id"])
    if cred is None or cred.user_id != uid:
        raise NotFound(f"Could not find application credential: {call.path['cred_id']}.")
    return cred


def get_app_cred(call: Call) -> dict:
    uid = _owner(call, "identity:get_application_credential")
    with identity(call).store.read() as session:
        return {"application_credential": _app_cred_view(call, session, _app_cred(session, call, uid))}


def delete_app_cred(call: Call) -> Reply:
    uid = _owner(call, "identity:delete_application_credential")
    ctx = call.ctx
    if ctx.application_credential is not None and ctx.application_credential.get("restricted"):
        raise Forbidden("A restricted application credential cannot delete application credentials.")
    with identity(call).store.write() as session:
        session.delete(_app_cred(session, call, uid))
    return Reply(status=204)


def list_access_rules(call: Call) -> dict:
    uid = _owner(call, "identity:access_rules")
    with identity(call).store.read() as session:
        rows = session.scalars(select(AccessRule).where(AccessRule.user_id == uid)).all()
    return {"access_rules": [{**_rule_view(r), "links": {"self": call.url(f"/v3/users/{uid}/access_rules/{r.id}")}}
                             for r in rows],
            "links": {"self": call.url(f"/v3/users/{uid}/access_rules"), "previous": None, "next": None}}


def _rule(session: Session, call: Call, uid: str) -> AccessRule:
    row = session.get(AccessRule, call.path["rule_id"])
    if row is None or row.user_id != uid:
        raise NotFound(f"Could not find access rule: {call.path['rule_id']}.")
    return row


def get_access_rule(call: Call) -> dict:
    uid = _owner(call, "identity:access_rules")
    with identity(call).store.read() as session:
        row = _rule(session, call, uid)
    return {"access_rule": {**_rule_view(row), "links": {"self": call.url(f"/v3/users/{uid}/access_rules/{row.id}")}}}


def delete_access_rule(call: Call) -> Reply:
    uid = _owner(call, "identity:delete_access_rule")
    with identity(call).store.write() as session:
        row = _rule(session, call, uid)
        users = session.scalars(select(ApplicationCredential).where(ApplicationCredential.user_id == uid))
        if any(row.id in c.access_rule_ids for c in users):
            raise Forbidden(f"Access rule {row.id} is still used by an application credential.")
        session.delete(row)
    return Reply(status=204)


# -- /v3/credentials -----------------------------------------------------------
def _credential_view(call: Call, c: Credential) -> dict:
    return {"id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.type, "blob": c.blob,
            **(c.extra or {}), "links": {"self": call.url(f"/v3/credentials/{c.id}")}}


def _ec2_id(blob: str) -> str | None:
    try:
        access = json.loads(blob).get("access")
    except (ValueError, AttributeError):
        raise BadRequest("The blob of an ec2 credential must be a JSON object with 'access'.") from None
    return hashlib.sha256(access.encode()).hexdigest() if access else None


def create_credential(call: Call) -> Reply:
    body = call.body["credential"]
    authorize(call, "identity:manage_credential", {"user_id": body["user_id"]})
    with identity(call).store.write() as session:
        get(session, User, body["user_id"], "user")
        cid = new_id()
        if body["type"] == "ec2":
            if not body.get("project_id"):
                raise BadRequest("An ec2 credential needs a project_id.")
            cid = _ec2_id(body["blob"]) or cid
        if session.get(Credential, cid) is not None:
            raise conflict("credential", "id", cid)
        extra = {k: v for k, v in body.items() if k not in ("blob", "project_id", "type", "user_id", "id", "links")}
        row = Credential(id=cid, user_id=body["user_id"], project_id=body.get("project_id"), type=body["type"],
                         blob=body["blob"], extra=extra)
        session.add(row)
        session.flush()
        return Reply({"credential": _credential_view(call, row)}, 201)


def list_credentials(call: Call) -> dict:
    ctx = call.ctx
    with identity(call).store.read() as session:
        stmt = select(Credential)
        for key in ("user_id", "type"):
            if key in call.query:
                stmt = stmt.where(getattr(Credential, key) == call.query[key])
        rows = [c for c in session.scalars(stmt)
                if (ctx.is_admin or ctx.is_system and "reader" in ctx.roles) or c.user_id == ctx.user_id]
    return {"credentials": [_credential_view(call, c) for c in rows],
            "links": {"self": call.url("/v3/credentials"), "previous": None, "next": None}}


def _credential(session: Session, call: Call, action: str) -> Credential:
    row = get(session, Credential, call.path["credential_id"], "credential")
    authorize(call, action, {"user_id": row.user_id})
    return row


def get_credential(call: Call) -> dict:
    with identity(call).store.read() as session:
        return {"credential": _credential_view(call, _credential(session, call, "identity:get_credential"))}


def update_credential(call: Call) -> dict:
    body = call.body["credential"]
    with identity(call).store.write() as session:
        row = _credential(session, call, "identity:manage_credential")
        for key in ("blob", "project_id", "type", "user_id"):
            if key in body:
                setattr(row, key, body[key])
        if row.type == "ec2" and not row.project_id:
            raise BadRequest("An ec2 credential needs a project_id.")
        return {"credential": _credential_view(call, row)}


def delete_credential(call: Call) -> Reply:
    with identity(call).store.write() as session:
        session.delete(_credential(session, call, "identity:manage_credential"))
    return Reply(status=204)


# -- OS-EC2 ------------------------------------------------------------------
def _ec2_view(call: Call, c: Credential) -> dict:
    blob = json.loads(c.blob)
    return {"user_id": c.user_id, "tenant_id": c.project_id, "access": blob["access"], "secret": blob["secret"],
            "trust_id": blob.get("trust_id"),
            "links": {"self": call.url(f"/v3/users/{c.user_id}/credentials/OS-EC2/{blob['access']}")}}


def create_ec2(call: Call) -> Reply:
    uid = _owner(call, "identity:manage_credential")
    tenant = call.body["tenant_id"]
    with identity(call).store.write() as session:
        get(session, User, uid, "user")
        project = session.get(Project, tenant)
        if project is None or project.is_domain:
            raise NotFound(f"Could not find project: {tenant}.")
        access, secret = uuid.uuid4().hex, uuid.uuid4().hex
        blob = json.dumps({"access": access, "secret": secret, "trust_id": None})
        row = Credential(id=hashlib.sha256(access.encode()).hexdigest(), user_id=uid, project_id=tenant,
                         type="ec2", blob=blob, extra={})
        session.add(row)
        return Reply({"credential": _ec2_view(call, row)}, 201)


def list_ec2(call: Call) -> dict:
    uid = _owner(call, "identity:get_credential")
    with identity(call).store.read() as session:
        get(session, User, uid, "user")
        rows = session.scalars(select(Credential).where(Credential.user_id == uid, Credential.type == "ec2")).all()
    return {"credentials": [_ec2_view(call, c) for c in rows],
            "links": {"self": call.url(f"/v3/users/{uid}/credentials/OS-EC2"), "previous": None, "next": None}}


def _ec2(session: Session, call: Call, uid: str) -> Credential:
    row = session.get(Credential, hashlib.sha256(call.path["access"].encode()).hexdigest())
    if row is None or row.user_id != uid or row.type != "ec2":
        raise NotFound(f"Could not find credential: {call.path['access']}.")
    return row


def get_ec2(call: Call) -> dict:
    uid = _owner(call, "identity:get_credential")
    with identity(call).store.read() as session:
        return {"credential": _ec2_view(call, _ec2(session, call, uid))}


def delete_ec2(call: Call) -> Reply:
    uid = _owner(call, "identity:manage_credential")
    with identity(call).store.write() as session:
        session.delete(_ec2(session, call, uid))
    return Reply(status=204)


ROUTES = [
    route("/v3/users/{user_id}/application_credentials", "POST", create_app_cred, schema=schemas.app_cred_create),
    route("/v3/users/{user_id}/application_credentials", "GET", list_app_creds),
    route("/v3/users/{user_id}/application_credentials/{cred_id}", "GET", get_app_cred),
    route("/v3/users/{user_id}/application_credentials/{cred_id}", "DELETE", delete_app_cred),
    route("/v3/users/{user_id}/access_rules", "GET", list_access_rules),
    route("/v3/users/{user_id}/access_rules/{rule_id}", "GET", get_access_rule),
    route("/v3/users/{user_id}/access_rules/{rule_id}", "DELETE", delete_access_rule),
    route("/v3/credentials", "POST", create_credential, schema=schemas.credential_create),
    route("/v3/credentials", "GET", list_credentials),
    route("/v3/credentials/{credential_id}", "GET", get_credential),
    route("/v3/credentials/{credential_id}", "PATCH", update_credential, schema=schemas.credential_update),
    route("/v3/credentials/{credential_id}", "DELETE", delete_credential),
    route("/v3/users/{user_id}/credentials/OS-EC2", "POST", create_ec2, schema=schemas.ec2_create),
    route("/v3/users/{user_id}/credentials/OS-EC2", "GET", list_ec2),
    route("/v3/users/{user_id}/credentials/OS-EC2/{access}", "GET", get_ec2),
    route("/v3/users/{user_id}/credentials/OS-EC2/{access}", "DELETE", delete_ec2),
]

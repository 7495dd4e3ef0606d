"""/v3/credentials (blobs a user keeps, EC2 keys among them) and OS-EC2, which makes EC2 keys for a
user's project."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import new_id
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.identity.models import Credential, Project, User
from onestack.services.identity.policies import Check
from onestack.services.identity.service.rows import assign, conflict, get
from onestack.services.identity.service.tokens import InvalidToken, TokenService
from onestack.services.identity.service.transactions import Transactions

FIELDS = ("blob", "project_id", "type", "user_id")


def _ec2_id(blob: str) -> str | None:
    """An EC2 credential's id is the hash of its access key, so it can be found by that key."""
    try:
        access = json.loads(blob).get("access")
    except (ValueError, AttributeError):
        raise BadRequest("The blob of an ec2 credential must be a JSON object with 'access'.") from None
    return hashlib.sha256(access.encode()).hexdigest() if access else None


def _credential(session: Session, credential_id: str, check: Check) -> Credential:
    row = get(session, Credential, credential_id, "credential")
    check({"user_id": row.user_id})
    return row


def _ec2(session: Session, user_id: str, access: str) -> Credential:
    row = session.get(Credential, hashlib.sha256(access.encode()).hexdigest())
    if row is None or row.user_id != user_id or row.type != "ec2":
        raise NotFound(f"Could not find credential: {access}.")
    return row


class Credentials:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def create(self, body: dict) -> Credential:
        with self.transactions.write() as session:
            get(session, User, body["user_id"], "user")
            cid = new_id()
            if body["type"] == "ec2":
                if not body.get("project_id"):
                    raise BadRequest("An ec2 credential needs a project_id.")
                cid = _ec2_id(body["blob"]) or cid
            if session.get(Credential, cid) is not None:
                raise conflict("credential", "id", cid)
            extra = {k: v for k, v in body.items() if k not in (*FIELDS, "id", "links")}
            row = Credential(id=cid, user_id=body["user_id"], project_id=body.get("project_id"), type=body["type"],
                             blob=body["blob"], extra=extra)
            session.add(row)
            session.flush()
        return row

    def list(self, ctx: Context, query) -> list[Credential]:
        """The credentials the caller may see: everyone's for an admin or system reader, else their own."""
        with self.transactions.read() as session:
            stmt = select(Credential)
            for key in ("user_id", "type"):
                if key in query:
                    stmt = stmt.where(getattr(Credential, key) == query[key])
            return [c for c in session.scalars(stmt)
                    if (ctx.is_admin or ctx.is_system and "reader" in ctx.roles) or c.user_id == ctx.user_id]

    def get(self, credential_id: str, check: Check) -> Credential:
        with self.transactions.read() as session:
            return _credential(session, credential_id, check)

    def update(self, credential_id: str, body: dict, check: Check) -> Credential:
        with self.transactions.write() as session:
            row = _credential(session, credential_id, check)
            assign(row, body, FIELDS)
            if row.type == "ec2" and not row.project_id:
                raise BadRequest("An ec2 credential needs a project_id.")
        return row

    def delete(self, credential_id: str, check: Check) -> None:
        with self.transactions.write() as session:
            session.delete(_credential(session, credential_id, check))

    # -- OS-EC2 ------------------------------------------------------------------
    def create_ec2(self, user_id: str, project_id: str) -> Credential:
        with self.transactions.write() as session:
            get(session, User, user_id, "user")
            project = session.get(Project, project_id)
            if project is None or project.is_domain:
                raise NotFound(f"Could not find project: {project_id}.")
            access, secret = uuid.uuid4().hex, uuid.uuid4().hex
            blob = json.dumps({"access": access, "secret": secret, "trust_id": None})
            row = Credential(id=hashlib.sha256(access.encode()).hexdigest(), user_id=user_id, project_id=project_id,
                             type="ec2", blob=blob, extra={})
            session.add(row)
        return row

    def ec2_list(self, user_id: str) -> list[Credential]:
        with self.transactions.read() as session:
            get(session, User, user_id, "user")
            return list(session.scalars(select(Credential).where(Credential.user_id == user_id,
                                                                 Credential.type == "ec2")))

    def get_ec2(self, user_id: str, access: str) -> Credential:
        with self.transactions.read() as session:
            return _ec2(session, user_id, access)

    def delete_ec2(self, user_id: str, access: str) -> None:
        with self.transactions.write() as session:
            session.delete(_ec2(session, user_id, access))

    def ec2_caller(self, tokens: TokenService, access: str) -> tuple[str, Context] | None:
        """An EC2 credential's secret and its caller, as Keystone's ec2tokens/s3tokens check one: a token
        of its user scoped to its project is issued (and validated) here, so a disabled user or project or
        a withdrawn role reaches nothing."""
        with self.transactions.read() as session:
            row = session.get(Credential, hashlib.sha256(access.encode()).hexdigest())
            if row is None or row.type != "ec2" or not row.project_id:
                return None
            try:
                secret = json.loads(row.blob).get("secret")
            except (ValueError, AttributeError):
                return None
            user, project = session.get(User, row.user_id), session.get(Project, row.project_id)
            if not secret or user is None or project is None:
                return None
            try:
                _, data = tokens.issue(session, user, ["ec2credential"], project=project)
            except InvalidToken:
                return None
        return secret, data.context

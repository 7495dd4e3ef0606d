"""Application credentials and their access rules, /v3/credentials and OS-EC2."""

from __future__ import annotations

from operator import attrgetter

from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import check, identity, owned_delete, owned_show, owner, views
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.application_credentials import ApplicationCredentials
from onestack.services.identity.service.credentials import Credentials
from onestack.services.identity.views import Views

APP_CREDS, CREDENTIALS = attrgetter("app_creds"), attrgetter("credentials")


# -- application credentials and access rules ------------------------------------
def create_app_cred(call: Call) -> Reply:
    uid = owner(call, "identity:create_application_credential")
    described, secret = identity(call).app_creds.create(call.ctx, uid, call.body["application_credential"])
    return Reply({"application_credential": {**views(call).application_credential(*described), "secret": secret}},
                 201)


def list_app_creds(call: Call) -> dict:
    uid = owner(call, "identity:get_application_credential")
    v = views(call)
    found = identity(call).app_creds.list(uid, call.query.get("name"))
    return v.collection("application_credentials", [v.application_credential(*d) for d in found],
                        f"users/{uid}/application_credentials")


def get_app_cred(call: Call) -> dict:
    uid = owner(call, "identity:get_application_credential")
    described = identity(call).app_creds.get(uid, call.path["cred_id"])
    return {"application_credential": views(call).application_credential(*described)}


def delete_app_cred(call: Call) -> Reply:
    uid = owner(call, "identity:delete_application_credential")
    identity(call).app_creds.delete(call.ctx, uid, call.path["cred_id"])
    return Reply(status=204)


def list_access_rules(call: Call) -> dict:
    uid = owner(call, "identity:access_rules")
    v = views(call)
    rows = identity(call).app_creds.access_rules(uid)
    return v.collection("access_rules", [v.access_rule(r) for r in rows], f"users/{uid}/access_rules")


# -- /v3/credentials -----------------------------------------------------------
def create_credential(call: Call) -> Reply:
    body = call.body["credential"]
    authorize(call.ctx, "identity:manage_credential", {"user_id": body["user_id"]})
    return Reply({"credential": views(call).credential(identity(call).credentials.create(body))}, 201)


def list_credentials(call: Call) -> dict:
    v = views(call)
    rows = identity(call).credentials.list(call.ctx, call.query)
    return v.collection("credentials", [v.credential(c) for c in rows], "credentials")


def get_credential(call: Call) -> dict:
    row = identity(call).credentials.get(call.path["credential_id"], check(call, "identity:get_credential"))
    return {"credential": views(call).credential(row)}


def update_credential(call: Call) -> dict:
    row = identity(call).credentials.update(call.path["credential_id"], call.body["credential"],
                                            check(call, "identity:manage_credential"))
    return {"credential": views(call).credential(row)}


def delete_credential(call: Call) -> Reply:
    identity(call).credentials.delete(call.path["credential_id"], check(call, "identity:manage_credential"))
    return Reply(status=204)


# -- OS-EC2 ------------------------------------------------------------------
def create_ec2(call: Call) -> Reply:
    uid = owner(call, "identity:manage_credential")
    return Reply({"credential": views(call).ec2(identity(call).credentials.create_ec2(uid, call.body["tenant_id"]))},
                 201)


def list_ec2(call: Call) -> dict:
    uid = owner(call, "identity:get_credential")
    v = views(call)
    return v.collection("credentials", [v.ec2(c) for c in identity(call).credentials.ec2_list(uid)],
                        f"users/{uid}/credentials/OS-EC2")


ROUTES = [
    route("/v3/users/{user_id}/application_credentials", "POST", create_app_cred, schema=schemas.app_cred_create),
    route("/v3/users/{user_id}/application_credentials", "GET", list_app_creds),
    route("/v3/users/{user_id}/application_credentials/{cred_id}", "GET", get_app_cred),
    route("/v3/users/{user_id}/application_credentials/{cred_id}", "DELETE", delete_app_cred),
    route("/v3/users/{user_id}/access_rules", "GET", list_access_rules),
    route("/v3/users/{user_id}/access_rules/{rule_id}", "GET",
          owned_show(APP_CREDS, "access_rule", Views.access_rule, "identity:access_rules",
                     ApplicationCredentials.access_rule, "rule_id")),
    route("/v3/users/{user_id}/access_rules/{rule_id}", "DELETE",
          owned_delete(APP_CREDS, "identity:delete_access_rule", ApplicationCredentials.delete_access_rule,
                       "rule_id")),
    route("/v3/credentials", "POST", create_credential, schema=schemas.credential_create),
    route("/v3/credentials", "GET", list_credentials),
    route("/v3/credentials/{credential_id}", "GET", get_credential),
    route("/v3/credentials/{credential_id}", "PATCH", update_credential, schema=schemas.credential_update),
    route("/v3/credentials/{credential_id}", "DELETE", delete_credential),
    route("/v3/users/{user_id}/credentials/OS-EC2", "POST", create_ec2, schema=schemas.ec2_create),
    route("/v3/users/{user_id}/credentials/OS-EC2", "GET", list_ec2),
    route("/v3/users/{user_id}/credentials/OS-EC2/{access}", "GET",
          owned_show(CREDENTIALS, "credential", Views.ec2, "identity:get_credential", Credentials.get_ec2, "access")),
    route("/v3/users/{user_id}/credentials/OS-EC2/{access}", "DELETE",
          owned_delete(CREDENTIALS, "identity:manage_credential", Credentials.delete_ec2, "access")),
]

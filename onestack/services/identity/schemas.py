"""JSON Schemas for identity request bodies (what Keystone's validators accept)."""

from __future__ import annotations

from typing import Any

ID = {"type": "string", "minLength": 1, "maxLength": 64}
NAME = {"type": "string", "minLength": 1, "maxLength": 255}
NULLABLE_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
DESCRIPTION = {"type": ["string", "null"]}
ENABLED = {"type": "boolean"}
TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 80, "uniqueItems": True}
BOOL_OPTIONS = {"type": ["boolean", "null"]}
PASSWORD = {"type": ["string", "null"]}


def wrap(key: str, props: dict[str, Any], required: tuple[str, ...] = (), extra: bool = True,
         min_props: int = 0) -> dict:
    inner: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        inner["required"] = list(required)
    if min_props:
        inner["minProperties"] = min_props
    return {"type": "object", "properties": {key: inner}, "required": [key], "additionalProperties": False}


_scope = {
    "type": "object",
    "properties": {
        "project": {"type": "object", "properties": {"id": ID, "name": NAME, "domain": {"type": "object"}}},
        "domain": {"type": "object", "properties": {"id": ID, "name": NAME}},
        "system": {"type": "object"},
        "OS-TRUST:trust": {"type": "object"},
    },
}

auth = {
    "type": "object",
    "properties": {
        "auth": {
            "type": "object",
            "properties": {
                "identity": {
                    "type": "object",
                    "properties": {"methods": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
                    "required": ["methods"],
                },
                "scope": {"anyOf": [_scope, {"type": "string", "enum": ["unscoped"]}]},
            },
            "required": ["identity"],
        }
    },
    "required": ["auth"],
}

_project_props = {
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "description": DESCRIPTION, "domain_id": NULLABLE_ID, "parent_id": NULLABLE_ID, "enabled": ENABLED,
    "is_domain": {"type": "boolean"}, "tags": TAGS, "options": {"type": "object"},
}
project_create = wrap("project", _project_props, required=("name",))
project_update = wrap("project", {k: v for k, v in _project_props.items() if k not in ("domain_id", "is_domain",
                                                                                      "parent_id")}, min_props=1)
project_tags = {"type": "object", "properties": {"tags": TAGS}, "required": ["tags"], "additionalProperties": False}

_domain_props = {"name": {"type": "string", "minLength": 1, "maxLength": 64}, "description": DESCRIPTION,
                 "enabled": ENABLED, "tags": TAGS, "options": {"type": "object"}, "explicit_domain_id": ID}
domain_create = wrap("domain", _domain_props, required=("name",))
domain_update = wrap("domain", {k: v for k, v in _domain_props.items() if k != "explicit_domain_id"}, min_props=1)

_user_options = {
    "type": "object",
    "properties": {
        "ignore_change_password_upon_first_use": BOOL_OPTIONS, "ignore_password_expiry": BOOL_OPTIONS,
        "ignore_lockout_failure_attempts": BOOL_OPTIONS, "lock_password": BOOL_OPTIONS,
        "ignore_user_inactivity": BOOL_OPTIONS, "multi_factor_auth_enabled": BOOL_OPTIONS,
        "multi_factor_auth_rules": {"type": ["array", "null"]},
    },
    "additionalProperties": False,
}
_user_props = {
    "name": NAME, "domain_id": ID, "default_project_id": NULLABLE_ID, "description": DESCRIPTION,
    "email": {"type": ["string", "null"]}, "enabled": ENABLED, "password": PASSWORD, "options": _user_options,
    "federated": {"type": "array"},
}
user_create = wrap("user", _user_props, required=("name",))
user_update = wrap("user", {k: v for k, v in _user_props.items()}, min_props=0)
password_change = wrap("user", {"password": {"type": "string"}, "original_password": {"type": "string"}},
                       required=("password", "original_password"), extra=False)

_group_props = {"name": NAME, "domain_id": ID, "description": DESCRIPTION}
group_create = wrap("group", _group_props, required=("name",))
group_update = wrap("group", _group_props, min_props=1)

_role_props = {"name": NAME, "domain_id": NULLABLE_ID, "description": DESCRIPTION,
               "options": {"type": "object", "properties": {"immutable": BOOL_OPTIONS},
                           "additionalProperties": False}}
role_create = wrap("role", _role_props, required=("name",))
role_update = wrap("role", {k: v for k, v in _role_props.items() if k != "domain_id"}, min_props=1)

_region_props = {"id": {"type": "string", "minLength": 1, "maxLength": 255}, "description": DESCRIPTION,
                 "parent_region_id": {"type": ["string", "null"]}}
region_create = wrap("region", _region_props)
region_update = wrap("region", {k: v for k, v in _region_props.items() if k != "id"}, min_props=1)

_service_props = {"type": {"type": "string", "minLength": 1, "maxLength": 255}, "name": {"type": "string"},
                  "description": DESCRIPTION, "enabled": ENABLED}
service_create = wrap("service", _service_props, required=("type",))
service_update = wrap("service", _service_props, min_props=1)

_endpoint_props = {
    "service_id": ID, "interface": {"type": "string", "enum": ["public", "internal", "admin"]},
    "url": {"type": "string", "minLength": 1, "maxLength": 225, "pattern": "^[a-zA-Z0-9+.-]+://.+"},
    "region_id": {"type": ["string", "null"]}, "region": {"type": ["string", "null"]}, "enabled": ENABLED,
}
endpoint_create = wrap("endpoint", _endpoint_props, required=("service_id", "interface", "url"))
endpoint_update = wrap("endpoint", _endpoint_props, min_props=1)

_access_rule = {"type": "object", "properties": {
    "id": ID, "service": {"type": "string"}, "path": {"type": "string"}, "method": {"type": "string",
    "enum": ["HEAD", "GET", "POST", "PUT", "PATCH", "DELETE"]}}, "additionalProperties": False}
app_cred_create = wrap("application_credential", {
    "name": NAME, "description": DESCRIPTION, "secret": {"type": ["string", "null"]},
    "expires_at": {"type": ["string", "null"]},
    "roles": {"type": "array", "items": {"type": "object", "properties": {"id": ID, "name": NAME},
                                         "minProperties": 1}},
    "unrestricted": {"type": ["boolean", "null"]},
    "access_rules": {"type": "array", "items": _access_rule},
}, required=("name",), extra=False)

credential_create = wrap("credential", {"blob": {"type": "string"}, "project_id": NULLABLE_ID,
                                        "type": {"type": "string"}, "user_id": ID},
                         required=("blob", "type", "user_id"))
credential_update = wrap("credential", {"blob": {"type": "string"}, "project_id": NULLABLE_ID,
                                        "type": {"type": "string"}, "user_id": ID}, min_props=1)

_policy_props = {"blob": {"type": "string"}, "type": {"type": "string", "minLength": 1, "maxLength": 255}}
policy_create = wrap("policy", _policy_props, required=("blob", "type"))
policy_update = wrap("policy", _policy_props, min_props=1)

_filters = {"type": "object", "properties": {"service_id": ID, "region_id": {"type": "string"},
                                             "interface": {"type": "string", "enum": ["public", "internal",
                                                                                      "admin"]}},
            "additionalProperties": False, "minProperties": 1}
endpoint_group_create = wrap("endpoint_group", {"name": NAME, "description": DESCRIPTION, "filters": _filters},
                             required=("name", "filters"), extra=False)
endpoint_group_update = wrap("endpoint_group", {"name": NAME, "description": DESCRIPTION, "filters": _filters},
                             extra=False, min_props=1)

trust_create = wrap("trust", {
    "trustor_user_id": ID, "trustee_user_id": ID, "project_id": NULLABLE_ID, "impersonation": {"type": "boolean"},
    "expires_at": {"type": ["string", "null"]}, "remaining_uses": {"type": ["integer", "null"], "minimum": 1},
    "allow_redelegation": {"type": ["boolean", "null"]}, "redelegation_count": {"type": ["integer", "null"]},
    "roles": {"type": "array", "items": {"type": "object", "properties": {"id": ID, "name": NAME},
                                         "minProperties": 1}},
}, required=("trustor_user_id", "trustee_user_id", "impersonation"))

ec2_create = {"type": "object", "properties": {"tenant_id": ID}, "required": ["tenant_id"]}

_LIMIT = {"type": "integer", "minimum": -1, "maximum": 2147483647}
_registered_limit = {"type": "object", "properties": {
    "service_id": ID, "region_id": {"type": ["string", "null"], "maxLength": 255},
    "resource_name": {"type": "string", "minLength": 1, "maxLength": 255}, "default_limit": _LIMIT,
    "description": DESCRIPTION}, "required": ["service_id", "resource_name", "default_limit"],
    "additionalProperties": False}
registered_limits_create = {"type": "object", "properties": {
    "registered_limits": {"type": "array", "items": _registered_limit, "minItems": 1}},
    "required": ["registered_limits"], "additionalProperties": False}
registered_limit_update = wrap("registered_limit", {
    k: v for k, v in _registered_limit["properties"].items()}, extra=False, min_props=1)
_limit = {"type": "object", "properties": {
    "service_id": ID, "region_id": {"type": ["string", "null"], "maxLength": 255}, "project_id": ID,
    "domain_id": ID, "resource_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "resource_limit": _LIMIT, "description": DESCRIPTION},
    "required": ["service_id", "resource_name", "resource_limit"], "additionalProperties": False}
limits_create = {"type": "object", "properties": {"limits": {"type": "array", "items": _limit, "minItems": 1}},
                 "required": ["limits"], "additionalProperties": False}
limit_update = wrap("limit", {"resource_limit": _LIMIT, "description": DESCRIPTION}, extra=False, min_props=1)

# Domain configuration: {"config": {group: {option: value}}}, or {"config": {option: value}} for one option.
_config_group = {"type": "object", "minProperties": 1}
domain_config = {"type": "object", "properties": {"config": {
    "type": "object", "minProperties": 1, "additionalProperties": _config_group}},
    "required": ["config"], "additionalProperties": False}
domain_config_option = {"type": "object", "properties": {"config": {
    "type": "object", "minProperties": 1, "maxProperties": 1}}, "required": ["config"], "additionalProperties": False}

# OS-OAUTH1: consumers carry a description and any extra attributes, never a client-chosen secret.
oauth_consumer_create = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": {"description": DESCRIPTION}, "not": {"required": ["secret"]}}},
    "required": ["consumer"], "additionalProperties": False}
oauth_consumer_update = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": {"description": DESCRIPTION},
    "not": {"anyOf": [{"required": ["secret"]}, {"required": ["id"]}]}}},
    "required": ["consumer"], "additionalProperties": False}
_role_ref = {"type": "object", "properties": {"id": ID, "name": NAME}, "minProperties": 1}
oauth_authorize = {"type": "object", "properties": {"roles": {"type": "array", "items": _role_ref, "minItems": 1}},
                   "required": ["roles"], "additionalProperties": False}

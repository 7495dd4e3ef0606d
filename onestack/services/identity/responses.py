"""What Keystone's bodies promise, as JSON Schema: the routes' ``response=``, published in the OpenAPI
description and checked by the fuzzer against every success.

Tempest ships no response schemas for Identity v3; the facts are Keystone's API reference (the keys each
entity shows and their types).  Required are the keys every entity of the kind shows; those shown only when
set (a user's ``default_project_id``, ``description``, ``email``) are optional, and other keys may follow
(an entity's extra attributes, which Keystone shows back).
"""

from __future__ import annotations

from onestack.http.shapes import ARRAY, BOOLEAN, OBJECT, STRING, TIME, array, nullable, obj, one

_SELF = obj({"self": STRING})
# a list's links: its own URL, and Keystone's (always null) previous and next
_LIST_LINKS = obj({"self": STRING, "previous": nullable(STRING), "next": nullable(STRING)})


def listed(key: str, entity: dict) -> dict:
    return obj({key: array(entity), "links": _LIST_LINKS})


PROJECT_ENTITY = obj({"id": STRING, "name": STRING, "domain_id": nullable(STRING), "description": STRING,
                      "enabled": BOOLEAN, "parent_id": nullable(STRING), "is_domain": BOOLEAN,
                      "tags": array(STRING), "options": OBJECT, "links": _SELF})
DOMAIN_ENTITY = obj({"id": STRING, "name": STRING, "description": STRING, "enabled": BOOLEAN,
                     "tags": ARRAY, "options": OBJECT, "links": _SELF})
USER_ENTITY = obj({"id": STRING, "name": STRING, "domain_id": STRING, "enabled": BOOLEAN,
                   "password_expires_at": nullable(TIME), "options": OBJECT, "links": _SELF},
                  {"default_project_id": STRING, "description": nullable(STRING), "email": nullable(STRING)})
GROUP_ENTITY = obj({"id": STRING, "name": STRING, "domain_id": STRING, "description": STRING, "links": _SELF})
ROLE_ENTITY = obj({"id": STRING, "name": STRING, "domain_id": nullable(STRING), "description": nullable(STRING),
                   "options": OBJECT, "links": _SELF})

PROJECT, PROJECTS = one("project", PROJECT_ENTITY), listed("projects", PROJECT_ENTITY)
DOMAIN, DOMAINS = one("domain", DOMAIN_ENTITY), listed("domains", DOMAIN_ENTITY)
USER, USERS = one("user", USER_ENTITY), listed("users", USER_ENTITY)
GROUP, GROUPS = one("group", GROUP_ENTITY), listed("groups", GROUP_ENTITY)
ROLES = listed("roles", ROLE_ENTITY)

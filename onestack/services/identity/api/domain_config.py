"""/v3/domains/{id}/config: a domain's own identity configuration, whole, by group or by option.

Only the ``identity`` and ``ldap`` groups may be set per domain, and only the options below; anything
else is refused with 403 as Keystone does.  What is stored is served back (sensitive options never), but
nothing in onestack reads it: like Keystone with ``domain_specific_drivers_enabled`` off, every domain
uses the one SQL backend.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import authorize, identity
from onestack.services.identity.models import DomainConfig, Project
from onestack.services.identity.store import get

# The options a domain may override, with the value a domain gets when it sets none.
DEFAULTS: dict[str, dict[str, object]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com", "query_scope": "one",
        "page_size": 0, "alias_dereferencing": "default", "debug_level": None, "chase_referrals": None,
        "user_tree_dn": None, "user_filter": None, "user_objectclass": "inetOrgPerson",
        "user_id_attribute": "cn", "user_name_attribute": "sn", "user_description_attribute": "description",
        "user_mail_attribute": "mail", "user_pass_attribute": "userPassword", "user_enabled_attribute": "enabled",
        "user_enabled_invert": False, "user_enabled_mask": 0, "user_enabled_default": "True",
        "user_attribute_ignore": ["default_project_id"], "user_default_project_id_attribute": None,
        "user_enabled_emulation": False, "user_enabled_emulation_dn": None,
        "user_enabled_emulation_use_group_config": False, "user_additional_attribute_mapping": [],
        "group_tree_dn": None, "group_filter": None, "group_objectclass": "groupOfNames",
        "group_id_attribute": "cn", "group_name_attribute": "ou", "group_member_attribute": "member",
        "group_members_are_ids": False, "group_desc_attribute": "description", "group_attribute_ignore": [],
        "group_additional_attribute_mapping": [], "tls_cacertfile": None, "tls_cacertdir": None,
        "use_tls": False, "tls_req_cert": "demand", "connection_timeout": -1, "use_pool": True,
        "pool_size": 10, "pool_retry_max": 3, "pool_retry_delay": 0.1, "pool_connection_timeout": -1,
        "pool_connection_lifetime": 600, "use_auth_pool": True, "auth_pool_size": 100,
        "auth_pool_connection_lifetime": 60,
    },
}
# May be set, never shown (nor offered as a default).
SENSITIVE = {"ldap": {"password"}}


def _check_option(group: str, option: str | None = None) -> None:
    if group not in DEFAULTS:
        raise Forbidden(f"Invalid domain specific configuration: group {group} is not supported here.")
    if option is not None and option not in DEFAULTS[group] and option not in SENSITIVE.get(group, ()):
        raise Forbidden(f"Invalid domain specific configuration: option {option} in group {group} "
                        "is not supported here.")


def _check_body(config: dict, group: str | None = None) -> None:
    for name, options in config.items():
        if group is not None and name != group:
            raise BadRequest(f"The group in the body ({name}) differs from the one in the URL ({group}).")
        _check_option(name)
        for option in options:
            _check_option(name, option)


def _domain(session: Session, call: Call) -> Project:
    row = get(session, Project, call.path["domain_id"], "domain")
    if not row.is_domain:
        raise NotFound(f"Could not find domain: {row.id}.")
    return row


def _rows(session: Session, domain_id: str, group: str | None = None, option: str | None = None):
    stmt = select(DomainConfig).where(DomainConfig.domain_id == domain_id)
    if group is not None:
        stmt = stmt.where(DomainConfig.group == group)
    if option is not None:
        stmt = stmt.where(DomainConfig.option == option)
    return list(session.scalars(stmt.order_by(DomainConfig.group, DomainConfig.option)))


def _shown(rows) -> dict:
    config: dict[str, dict] = {}
    for row in rows:
        if not row.sensitive:
            config.setdefault(row.group, {})[row.option] = row.value
    return config


def _store(session: Session, domain_id: str, config: dict) -> None:
    for group, options in config.items():
        for option, value in options.items():
            row = session.get(DomainConfig, (domain_id, group, option))
            if row is None:
                session.add(DomainConfig(domain_id=domain_id, group=group, option=option, value=value,
                                         sensitive=option in SENSITIVE.get(group, ())))
            else:
                row.value = value
    session.flush()


def _found(config: dict, what: str) -> dict:
    if not config:
        raise NotFound(f"Could not find {what}.")
    return config


# -- the whole configuration ---------------------------------------------------
def create_config(call: Call) -> Reply:
    authorize(call, "identity:manage_domain_config")
    config = call.body["config"]
    _check_body(config)
    with identity(call).store.write() as session:
        domain = _domain(session, call)
        existed = bool(_rows(session, domain.id))
        session.execute(delete(DomainConfig).where(DomainConfig.domain_id == domain.id))
        _store(session, domain.id, config)
        return Reply({"config": _shown(_rows(session, domain.id))}, 200 if existed else 201)


def get_config(call: Call) -> dict:
    authorize(call, "identity:get_domain_config")
    group, option = call.path.get("group"), call.path.get("option")
    if group is not None:
        _check_option(group, option)
    with identity(call).store.read() as session:
        domain = _domain(session, call)
        config = _found(_shown(_rows(session, domain.id, group, option)),
                        f"config for domain {domain.id}" + (f", group {group}" if group else "")
                        + (f", option {option}" if option else ""))
    return {"config": config[group] if option is not None else config}


def update_config(call: Call) -> dict:
    """PATCH merges options into what is stored; a group or option named in the URL must exist."""
    authorize(call, "identity:manage_domain_config")
    group, option = call.path.get("group"), call.path.get("option")
    config = call.body["config"]
    if option is not None:
        if set(config) != {option}:
            raise BadRequest(f"The body must set exactly the option in the URL ({option}).")
        config = {group: config}
    _check_body(config, group)
    with identity(call).store.write() as session:
        domain = _domain(session, call)
        if group is not None and not _rows(session, domain.id, group, option):
            raise NotFound(f"Could not find config for domain {domain.id}, group {group}"
                           + (f", option {option}." if option else "."))
        _store(session, domain.id, config)
        return {"config": _shown(_rows(session, domain.id))}


def delete_config(call: Call) -> Reply:
    authorize(call, "identity:manage_domain_config")
    group, option = call.path.get("group"), call.path.get("option")
    with identity(call).store.write() as session:
        domain = _domain(session, call)
        rows = _rows(session, domain.id, group, option)
        if not rows:
            raise NotFound(f"Could not find config for domain {domain.id}.")
        for row in rows:
            session.delete(row)
    return Reply(status=204)


# -- defaults ---------------------------------------------------------------------
def get_default(call: Call) -> dict:
    authorize(call, "identity:get_domain_config_default")
    group, option = call.path.get("group"), call.path.get("option")
    if group is None:
        return {"config": DEFAULTS}
    _check_option(group, option)
    if option is None:
        return {"config": {group: DEFAULTS[group]}}
    if option not in DEFAULTS[group]:
        raise Forbidden(f"Option {option} in group {group} is sensitive and has no default to show.")
    return {"config": {option: DEFAULTS[group][option]}}


BASE = "/v3/domains/{domain_id}/config"
ROUTES = [
    route("/v3/domains/config/default", "GET", get_default),
    route("/v3/domains/config/{group}/default", "GET", get_default),
    route("/v3/domains/config/{group}/{option}/default", "GET", get_default),
    route(BASE, "PUT", create_config, schema=schemas.domain_config),
    route(BASE, "GET", get_config),
    route(BASE, "PATCH", update_config, schema=schemas.domain_config),
    route(BASE, "DELETE", delete_config),
    route(BASE + "/{group}", "GET", get_config),
    route(BASE + "/{group}", "PATCH", update_config, schema=schemas.domain_config),
    route(BASE + "/{group}", "DELETE", delete_config),
    route(BASE + "/{group}/{option}", "GET", get_config),
    route(BASE + "/{group}/{option}", "PATCH", update_config, schema=schemas.domain_config_option),
    route(BASE + "/{group}/{option}", "DELETE", delete_config),
]

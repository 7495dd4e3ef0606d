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
from onestack.services.identity.models import DomainConfig, Project
from onestack.services.identity.service.rows import get
from onestack.services.identity.service.transactions import Transactions

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


def check_option(group: str, option: str | None = None) -> None:
    if group not in DEFAULTS:
        raise Forbidden(f"Invalid domain specific configuration: group {group} is not supported here.")
    if option is not None and option not in DEFAULTS[group] and option not in SENSITIVE.get(group, ()):
        raise Forbidden(f"Invalid domain specific configuration: option {option} in group {group} "
                        "is not supported here.")


def check_body(config: dict, group: str | None = None) -> None:
    for name, options in config.items():
        if group is not None and name != group:
            raise BadRequest(f"The group in the body ({name}) differs from the one in the URL ({group}).")
        check_option(name)
        for option in options:
            check_option(name, option)


def _domain(session: Session, domain_id: str) -> Project:
    row = get(session, Project, domain_id, "domain")
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


class DomainConfigs:
    def __init__(self, transactions: Transactions):
        self.transactions = transactions

    def replace(self, domain_id: str, config: dict) -> tuple[list[DomainConfig], bool]:
        """The whole configuration set anew; also whether the domain had one before."""
        check_body(config)
        with self.transactions.write() as session:
            domain = _domain(session, domain_id)
            existed = bool(_rows(session, domain.id))
            session.execute(delete(DomainConfig).where(DomainConfig.domain_id == domain.id))
            _store(session, domain.id, config)
            return _rows(session, domain.id), existed

    def get(self, domain_id: str, group: str | None, option: str | None) -> tuple[str, list[DomainConfig]]:
        """The stored options a path names, and the domain's id."""
        if group is not None:
            check_option(group, option)
        with self.transactions.read() as session:
            domain = _domain(session, domain_id)
            return domain.id, _rows(session, domain.id, group, option)

    def merge(self, domain_id: str, group: str | None, option: str | None, config: dict) -> list[DomainConfig]:
        """PATCH merges options into what is stored; a group or option named in the URL must exist."""
        if option is not None:
            if set(config) != {option}:
                raise BadRequest(f"The body must set exactly the option in the URL ({option}).")
            config = {group: config}
        check_body(config, group)
        with self.transactions.write() as session:
            domain = _domain(session, domain_id)
            if group is not None and not _rows(session, domain.id, group, option):
                raise NotFound(f"Could not find config for domain {domain.id}, group {group}"
                               + (f", option {option}." if option else "."))
            _store(session, domain.id, config)
            return _rows(session, domain.id)

    def delete(self, domain_id: str, group: str | None, option: str | None) -> None:
        with self.transactions.write() as session:
            domain = _domain(session, domain_id)
            rows = _rows(session, domain.id, group, option)
            if not rows:
                raise NotFound(f"Could not find config for domain {domain.id}.")
            for row in rows:
                session.delete(row)


def default(group: str | None, option: str | None) -> dict:
    """What a domain gets for the options it does not set: all of them, a group's, or one."""
    if group is None:
        return DEFAULTS
    check_option(group, option)
    if option is None:
        return {group: DEFAULTS[group]}
    if option not in DEFAULTS[group]:
        raise Forbidden(f"Option {option} in group {group} is sensitive and has no default to show.")
    return {option: DEFAULTS[group][option]}

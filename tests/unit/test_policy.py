import pytest

from onestack.http.context import Context
from onestack.http.errors import Forbidden
from onestack.http.policy import (
    ADMIN,
    OWNER,
    PROJECT_MEMBER,
    PROJECT_READER,
    SYSTEM_READER,
    enforce,
)


def ctx(roles, **kw) -> Context:
    return Context(user_id="u1", user_domain_id="default", roles=frozenset(roles), **kw)


def test_project_reader_is_limited_to_its_project():
    reader = ctx({"reader"}, project_id="p1")
    assert PROJECT_READER(reader, {"project_id": "p1"})
    assert not PROJECT_READER(reader, {"project_id": "p2"})
    assert not PROJECT_MEMBER(reader, {"project_id": "p1"})


def test_system_reader_needs_system_scope():
    assert SYSTEM_READER(ctx({"reader"}, system_scope="all"))
    assert not SYSTEM_READER(ctx({"reader"}, project_id="p1"))


def test_combinators():
    rule = ADMIN | OWNER
    assert rule(ctx({"admin"}), {"user_id": "other"})
    assert rule(ctx({"member"}), {"user_id": "u1"})
    assert not rule(ctx({"member"}), {"user_id": "other"})
    assert not (ADMIN & OWNER)(ctx({"admin"}), {"user_id": "other"})


def test_missing_scope_never_matches_missing_target():
    # A token without a project must not match a target without a project.
    assert not PROJECT_MEMBER(ctx({"member"}), {})


def test_enforce_names_the_action():
    with pytest.raises(Forbidden) as err:
        enforce(ctx({"member"}), "identity:list_users", ADMIN)
    assert "identity:list_users" in err.value.message

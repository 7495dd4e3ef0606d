"""The identity caches of validated tokens stay bounded however many tokens are signed in (issue 19's
sustained load: RSS grew with every token issued, the caches keeping each one until 20,000 were seen)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from onestack import bootstrap, registry
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.runtime import Runtime
from onestack.services.identity.api import auth
from onestack.services.identity.models import Project, User
from onestack.services.identity.service import tokens as tokens_module

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def runtime(database_url, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", database=database_url, bcrypt_rounds=4)
    settings.data_dir.mkdir()
    rt = Runtime(settings)
    upgrade(rt.db, registry.METADATA)
    bootstrap.seed(rt)
    yield rt
    rt.close()


def signed_in(rt: Runtime, count: int) -> list[str]:
    """``count`` distinct project-scoped tokens of the demo user, as a password sign-in issues them."""
    service = rt.identity.tokens
    with rt.db.read() as session:
        user = session.scalars(select(User).where(User.name == "demo")).one()
        project = session.scalars(select(Project).where(Project.name == "demo")).one()
        return [service.issue(session, user, ["password"], project=project)[0] for _ in range(count)]


def test_validating_many_tokens_keeps_at_most_the_limit(runtime, monkeypatch):
    monkeypatch.setattr(tokens_module, "CACHE_LIMIT", 16)
    service = runtime.identity.tokens
    issued = signed_in(runtime, 100)
    sizes = []
    for token in issued:
        assert service.validate(token).context.token == token
        sizes.append(len(service._cache))
    assert max(sizes) <= 16
    assert issued[-1] in service._cache  # the newest stay: the tokens in use are answered from memory
    # an evicted token still validates (from the database), and is kept again
    assert service.validate(issued[0]).context.token == issued[0] and issued[0] in service._cache


def test_rendered_validation_bodies_stay_bounded(runtime):
    service = runtime.identity.tokens
    bodies = auth.RenderedBodies(limit=16)
    for token in signed_in(runtime, 100):
        subject = service.validate(token)
        bodies.put(subject, True, b"{}")
        assert bodies.get(subject, True) == b"{}"
    assert len(bodies) <= 16


def test_expired_tokens_go_first(runtime, monkeypatch):
    monkeypatch.setattr(tokens_module, "CACHE_LIMIT", 16)
    service = runtime.identity.tokens
    runtime.settings.token_expiration = 1
    runtime.settings.allow_expired_window = 0
    old = signed_in(runtime, 10)
    for token in old:
        service.validate(token)
    time.sleep(1.1)
    runtime.settings.token_expiration = 3600
    fresh = signed_in(runtime, 10)
    for token in fresh:
        service.validate(token)
    # the expired went when the cache filled; every fresh one was kept, none dropped for room
    assert set(service._cache) == set(fresh)

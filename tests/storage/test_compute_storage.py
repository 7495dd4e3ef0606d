"""Compute's catalogue on SQLite and PostgreSQL: default flavors at bootstrap, the quota check servers call."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from onestack import registry
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.http.errors import Forbidden
from onestack.runtime import Runtime
from onestack.services.compute.models import Flavor, Quota
from onestack.services.compute.service import ComputeService


def test_default_flavors_once(database_url, tmp_path):
    from onestack import bootstrap

    settings = Settings(data_dir=tmp_path / "data", database=database_url, bcrypt_rounds=4)
    settings.data_dir.mkdir()
    for start in range(3):
        runtime = Runtime(settings)
        upgrade(runtime.db, registry.METADATA)
        bootstrap.seed(runtime)
        with runtime.db.write() as s:
            names = set(s.scalars(select(Flavor.name)))
            if start == 0:
                assert names == {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "m1.nano", "m1.micro"}
                s.execute(delete(Flavor).where(Flavor.name == "m1.xlarge"))
            else:  # a flavor the operator deleted is not brought back by the next start
                assert len(names) == 6 and "m1.xlarge" not in names
        runtime.close()


def test_check_quota_for_the_server_code(db, tmp_path):
    """The seam the server code calls: Nova's 403 wording, and the project's and the user's limits both."""
    upgrade(db, registry.METADATA)
    quotas = ComputeService(db, Settings(data_dir=tmp_path), network=None, images=None, placement=None).quotas
    with db.write() as session:
        session.add_all([Quota(project_id="p", user_id="", resource="instances", hard_limit=2),
                         Quota(project_id="p", user_id="u", resource="cores", hard_limit=1)])
    with db.read() as session:
        assert quotas.limits(session, "p")["instances"] == 2
        assert quotas.limits(session, "p", "u")["cores"] == 1
        assert quotas.limits(session, "p")["cores"] == 20
        assert quotas.usage(session, "p", "u")["key_pairs"] == 0
    with db.write() as session:
        quotas.check(session, "p", "u", {"instances": 2, "cores": 1, "ram": 512})
        with pytest.raises(Forbidden) as err:
            quotas.check(session, "p", None, {"instances": 3})
        assert err.value.message == "Quota exceeded for instances: Requested 3, but already used 0 of 2 instances"
        with pytest.raises(Forbidden) as err:
            quotas.check(session, "p", "u", {"cores": 2, "instances": 5})
        assert err.value.message == ("Quota exceeded for cores, instances: Requested 2, 5, but already used 0, 0 "
                                     "of 1, 2 cores, instances")


def test_console_tokens_expire_and_die_with_their_instance(db, tmp_path):
    """A console token is found by its value (only its hash is stored) until it expires or its instance goes."""
    import datetime

    from onestack.db.base import utcnow
    from onestack.services.compute.models import ConsoleToken, Instance
    from onestack.services.compute.service import consoles

    upgrade(db, registry.METADATA)
    consoles_of = ComputeService(db, Settings(data_dir=tmp_path), network=None, images=None, placement=None).consoles
    now = utcnow()
    with db.write() as session:
        session.add(Instance(id="i-1", number=1, project_id="p", user_id="u", name="a", hostname="a",
                             reservation_id="r", host="h1"))
        session.flush()
        for token, seconds in (("live", 600), ("old", -1)):
            session.add(ConsoleToken(token_hash=consoles._hash(token), instance_uuid="i-1", console_type="serial",
                                     host="h1", created_at=now, expires_at=now + datetime.timedelta(seconds=seconds)))
    with db.read() as session:
        assert all(row.token_hash not in ("live", "old") for row in session.scalars(select(ConsoleToken)))
    assert consoles_of.find("live").instance_uuid == "i-1"
    assert consoles_of.find("old") is None and consoles_of.find("made-up") is None
    with db.write() as session:
        session.get(Instance, "i-1").deleted = True
    assert consoles_of.find("live") is None

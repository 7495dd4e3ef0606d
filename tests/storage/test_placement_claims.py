"""Claims race on the database itself: threads with their own connections claim the last units of one
provider through PlacementService, on SQLite and on PostgreSQL (where only the generation
compare-and-swap keeps two transactions that both saw room from both committing)."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from onestack import registry
from onestack.db.migrate import upgrade
from onestack.http.errors import Conflict
from onestack.services.placement.service import PlacementService


def test_exactly_capacity_claims_win(db):
    upgrade(db, registry.METADATA)
    svc = PlacementService(db)
    capacity = 6
    rp = svc.ensure_provider("host-1", inventories_by_class={"VCPU": {"total": capacity}},
                             traits=["CUSTOM_FAST", "HW_CPU_X86_AVX2"])
    assert rp["generation"] == 2  # inventories, then traits

    def claim(_):
        try:
            svc.claim(str(uuid.uuid4()), {rp["uuid"]: {"VCPU": 1}}, "project", "user")
            return True
        except Conflict:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(claim, range(20)))
    assert won.count(True) == capacity
    found = svc.candidates({"VCPU": 1})
    assert found["allocation_requests"] == []
    assert found["provider_summaries"] == {}


def test_scheduler_calls(db):
    upgrade(db, registry.METADATA)
    svc = PlacementService(db)
    rp = svc.ensure_provider("host-2", inventories_by_class={"VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048}},
                             traits=["HW_CPU_X86_AVX2"])
    assert svc.ensure_provider("host-2", rp["uuid"], {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048}},
                               ["HW_CPU_X86_AVX2"])["uuid"] == rp["uuid"]
    found = svc.candidates({"VCPU": 2, "MEMORY_MB": 1024}, required=("HW_CPU_X86_AVX2",), limit=5)
    request = found["allocation_requests"][0]
    assert request["allocations"] == {rp["uuid"]: {"resources": {"VCPU": 2, "MEMORY_MB": 1024}}}
    assert svc.candidates({"VCPU": 1}, forbidden=("HW_CPU_X86_AVX2",))["allocation_requests"] == []
    consumer = str(uuid.uuid4())
    svc.claim(consumer, {rp["uuid"]: {"VCPU": 2, "MEMORY_MB": 1024}}, "p", "u")
    try:
        svc.claim(consumer, {rp["uuid"]: {"VCPU": 1}}, "p", "u", consumer_generation=None)
        raise AssertionError("a second claim expecting no allocations must conflict")
    except Conflict:
        pass
    assert svc.release(consumer) is True and svc.release(consumer) is False
    assert svc.candidates({"VCPU": 4})["allocation_requests"]

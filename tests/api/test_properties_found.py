"""What the parsers' property tests found (docs/hardening.md#property-tests), checked once more through the
API: each of these requests was answered with a 500 before its fix."""

from __future__ import annotations

import httpx

from tests.api.helpers import nova, nova_error
from tests.api.orchestration_helpers import fault


def test_an_integer_filter_beyond_64_bits_is_400(tenant):
    for value in ("9" * 20, "²", "--5", "1" * 5000):
        resp = tenant.http.get("/networks", params={"mtu": value})
        assert resp.status_code == 400, f"{value[:20]}: {resp.text}"
    assert tenant.http.get("/networks", params={"mtu": "1500"}).status_code == 200


def test_a_temp_url_expiry_of_other_digits_is_401(swift):
    c = swift.container()
    swift.put(f"/{c}/o", b"x")
    resp = swift.http.get(f"/{c}/o", params={"temp_url_sig": "0" * 40, "temp_url_expires": "²"},
                          headers={"X-Auth-Token": ""})
    assert resp.status_code == 401, resp.text


def test_hot_functions_given_the_wrong_types_are_400(heat):
    for value in ({"contains": [1, "abc"]}, {"str_split": ["", "a"]}, {"make_url": {"host": "h", "query": "q"}},
                  {"map_replace": [{"a": 1}, {"keys": {"a": ["x"]}}]}):
        template = {"heat_template_version": "2021-04-16",
                    "resources": {"r": {"type": "OS::Heat::RandomString", "properties": {"salt": value}}}}
        fault(heat.http.post("/validate", json={"template": template}), 400)


def test_huge_or_odd_minimum_filters_are_400(cloud):
    with nova(cloud) as http:
        for value in ("9" * 20, "²"):
            for param in ("minRam", "minDisk"):
                resp = http.get("/flavors", params={param: value})
                assert resp.status_code == 400, f"{param}={value}: {resp.text}"
    with httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": cloud.token()}, timeout=60) as http:
        for value in ("9" * 20, "²"):
            resp = http.get("/images", params={"size_min": value})
            assert resp.status_code == 400, f"size_min={value}: {resp.text}"


def test_numbers_beyond_pythons_4300_digit_limit_are_answered(cloud):
    """``int()`` refuses over 4,300 digits with a ValueError: each of these checks did ``isdecimal()`` then
    ``int()`` and answered 500 (onestack.http.numbers saturates such a number instead)."""
    huge = "9" * 5000
    with nova(cloud) as http:
        assert nova_error(http.get(f"/os-aggregates/{huge}"), 404)
        assert nova_error(http.get(f"/os-hypervisors/{huge}", headers={"OpenStack-API-Version": "compute 2.1"}), 404)
        assert nova_error(http.get("/flavors", params={"minRam": huge}), 400)
    issued = cloud.issue()
    project_id = issued.json()["token"]["project"]["id"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": issued.headers["X-Subject-Token"]},
                      timeout=60) as http:
        resp = http.get("/placement/allocation_candidates", params={"resources": "VCPU:1", "limit": huge},
                        headers={"OpenStack-API-Version": "placement 1.16"})
        assert resp.status_code == 200, resp.text
        resp = http.put(f"/network/v2.0/quotas/{project_id}", json={"quota": {"network": huge}})
        assert resp.status_code == 400, resp.text
        resp = http.get("/image/v2/images", params={"size_min": huge})
        assert resp.status_code == 400, resp.text


def test_filters_of_another_type_than_their_column_are_answered(tenant):
    """Found by fuzzing the published query strings: a Neutron filter on a time (``created_at=text``) reached
    the database as text, and one read as a number (``protocol=<20 digits>``) reached a text column as an
    integer beyond 64 bits; each was a 500."""
    for path, params in (("/networks", {"created_at": "not a time"}), ("/floatingips", {"updated_at": "x"})):
        resp = tenant.http.get(path, params=params)
        assert resp.status_code == 400, f"{path} {params}: {resp.text}"
        assert resp.json()["NeutronError"]["message"]
    made = tenant.http.post("/networks", json={"network": {"name": "timed"}})
    assert made.status_code == 201, made.text
    # a real time is a filter like any other
    resp = tenant.http.get("/networks", params={"created_at": made.json()["network"]["created_at"]})
    assert resp.status_code == 200, resp.text
    for value in ("9" * 20, "6"):
        resp = tenant.http.get("/security-group-rules", params={"protocol": value})
        assert resp.status_code == 200, f"protocol={value}: {resp.text}"
        assert all(str(r["protocol"]) == value for r in resp.json()["security_group_rules"])


def test_a_public_key_of_an_unknown_type_is_400(cloud):
    """Found by the fuzzer: cryptography refuses a key type it does not know with UnsupportedAlgorithm, which
    was a 500."""
    with nova(cloud) as http:
        for key in ("\u0083\U00049e17\u0016 AAAAB3NzaC1yc2E", "ssh-foo AAAAB3NzaC1yc2E"):
            resp = http.post("/os-keypairs", json={"keypair": {"name": "odd-key", "public_key": key}})
            assert nova_error(resp, 400)

"""onestack.testing's fault plan on its own: what is armed is spent as asked (the fixture's own suite,
tests/testing/, shows the faults through a real cloud)."""

import pytest

from onestack.testing.faults import Faults, prefix_of


def test_services_are_named_as_the_catalog_names_them():
    assert prefix_of("compute") == prefix_of("nova") == "/compute"
    assert prefix_of("block-storage") == prefix_of("cinder") == "/volume"
    assert prefix_of("/image/") == "/image"
    with pytest.raises(ValueError, match="no service 'glancee'"):
        prefix_of("glancee")


def test_build_faults_are_spent_one_per_build_in_order():
    faults = Faults()
    faults.fail_builds(2, fault="first")
    faults.fail_builds(1, fault="then")
    assert [faults.build_fault(None) for _ in range(4)] == ["first", "first", "then", None]


def test_latency_applies_under_its_prefix_only_and_runs_out():
    faults = Faults()
    faults.add_latency("network", 0.25, count=2)
    assert faults.delay("/compute/v2.1/servers") == 0
    assert faults.delay("/networking") == 0  # a prefix is a whole path segment
    assert [faults.delay("/network/v2.0/ports") for _ in range(3)] == [0.25, 0.25, 0]


def test_an_error_matches_its_pattern_and_method_until_spent():
    faults = Faults()
    faults.fail_requests("/compute/v2.1/servers/*", 409, method="delete", count=1)
    assert faults.error("GET", "/compute/v2.1/servers/abc") is None
    error = faults.error("DELETE", "/compute/v2.1/servers/abc")
    assert (error.status, error.content_type) == (409, "application/json")
    assert b'"title":"Conflict"' in error.body
    assert faults.error("DELETE", "/compute/v2.1/servers/abc") is None


def test_clear_forgets_everything_armed():
    faults = Faults()
    faults.fail_builds(3)
    faults.add_latency("image", 1)
    faults.fail_requests("/identity/*", 500, "broken")
    faults.clear()
    assert (faults.build_fault(None), faults.delay("/image/v2/images"), faults.error("GET", "/identity/v3")) \
        == (None, 0, None)


@pytest.mark.parametrize("arm", [lambda f: f.fail_builds(0), lambda f: f.add_latency("compute", -1),
                                 lambda f: f.fail_requests("/x", 99)])
def test_nonsense_is_refused(arm):
    with pytest.raises(ValueError):
        arm(Faults())

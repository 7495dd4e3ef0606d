"""The example of docs/testing-cloud.md: a user's tooling (``provision.py``) tested against the fixture."""

import openstack.exceptions
import pytest

from tests.testing import provision


def test_web_server_comes_up_on_its_own_network(onestack_cloud):
    server = provision.web_server("web")  # connects by itself: the fixture set OS_CLOUD
    assert server.status == "ACTIVE"
    assert server.addresses["web"][0]["addr"].startswith("10.0.0.")


def test_a_second_server_reuses_the_network(onestack_cloud):
    conn = onestack_cloud.connection
    provision.web_server("web", conn)
    provision.web_server("web", conn)
    assert len(list(conn.network.networks(name="web"))) == 1
    assert len(list(conn.network.subnets(name="web"))) == 1


def test_a_failed_build_is_reported_with_the_clouds_reason(onestack_cloud):
    onestack_cloud.faults.fail_builds(1, fault="No valid host was found.")
    with pytest.raises(provision.ProvisionError, match="web did not build: No valid host was found."):
        provision.web_server("web", onestack_cloud.connection)


def test_an_image_service_failure_reaches_the_caller(onestack_cloud):
    # its API fails; its version discovery still answers (else openstacksdk says the service is unsupported)
    onestack_cloud.faults.fail_requests("/image/v2/*", 500)
    with pytest.raises(openstack.exceptions.HttpException) as failed:
        provision.web_server("web", onestack_cloud.connection)
    assert failed.value.status_code == 500

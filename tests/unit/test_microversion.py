import pytest
from starlette.datastructures import Headers

from onestack.http.errors import BadRequest, NotAcceptable
from onestack.http.microversion import Microversions, Version

MV = Microversions("compute", Version(2, 1), Version(2, 10), legacy_headers=("x-openstack-nova-api-version",))


def h(**kw) -> Headers:
    return Headers({k.replace("_", "-"): v for k, v in kw.items()})


def test_default_is_minimum():
    assert MV.negotiate(h()) == Version(2, 1)


def test_latest_is_maximum():
    assert MV.negotiate(h(openstack_api_version="compute latest")) == Version(2, 10)


def test_other_service_in_header_is_ignored():
    assert MV.negotiate(h(openstack_api_version="volume 3.5")) == Version(2, 1)


def test_legacy_header():
    assert MV.negotiate(h(x_openstack_nova_api_version="2.5")) == Version(2, 5)


def test_out_of_range_is_406():
    with pytest.raises(NotAcceptable):
        MV.negotiate(h(openstack_api_version="compute 2.11"))


@pytest.mark.parametrize("bad", ["2", "2.x", "two", "2.01.1", "02.1"])
def test_malformed_is_400(bad):
    with pytest.raises(BadRequest):
        MV.negotiate(h(openstack_api_version=f"compute {bad}"))


def test_version_ordering_is_numeric():
    assert Version.parse("2.10") > Version.parse("2.9")


def test_response_headers_echo_version():
    headers = MV.response_headers(Version(2, 5))
    assert headers["OpenStack-API-Version"] == "compute 2.5"
    assert headers["x-openstack-nova-api-version"] == "2.5"
    assert "OpenStack-API-Version" in headers["Vary"]

"""Property tests of IP address management's parsers (onestack/services/network/service/ipam.py): CIDRs,
addresses, allocation pools and routes, as a client writes them in a subnet's body."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from onestack.http.errors import APIError, BadRequest, Conflict
from onestack.services.network.service import ipam
from tests.unit.properties import bounded

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=45)
v4 = st.integers(0, 2**32 - 1).map(lambda i: str(ipaddress.IPv4Address(i)))
v6 = st.integers(0, 2**128 - 1).map(lambda i: str(ipaddress.IPv6Address(i)))
cidr_text = st.one_of(
    text,
    st.builds(lambda a, n: f"{a}/{n}", v4, st.integers(-1, 33)),
    st.builds(lambda a, n: f"{a}/{n}", v6, st.integers(-1, 129)),
    st.builds(lambda a, t: f"{a}/{t}", st.one_of(v4, v6), text),
)


@given(cidr_text, st.booleans())
@bounded(300)
def test_a_cidr_parses_to_itself_or_answers_400(value, strict):
    try:
        net = ipam.parse_cidr(value, strict=strict)
    except BadRequest as err:
        assert err.status == 400
        return
    assert ipam.parse_cidr(str(net)) == net  # what is stored reads back the same
    if strict:
        assert net.network_address == ipaddress.ip_network(value, strict=False).network_address


def networks():
    return st.one_of(
        st.builds(lambda a, n: ipaddress.ip_network(f"{a}/{n}", strict=False), v4, st.integers(16, 32)),
        st.builds(lambda a, n: ipaddress.ip_network(f"{a}/{n}", strict=False), v6, st.integers(112, 128)),
    )


@st.composite
def subnet_and_pools(draw):
    """A network, pools around it (inside, at its edges, outside, of the other version, garbage) and a gateway."""
    net = draw(networks())
    lo, hi = int(net.network_address), int(net.broadcast_address)
    top = 2**32 - 1 if net.version == 4 else 2**128 - 1
    near = st.integers(max(lo - 4, 0), min(hi + 4, top)).map(lambda i: ipam._text(net.version, i))
    address = st.one_of(near, near, v4, v6, text)
    pools = draw(st.lists(st.fixed_dictionaries({"start": address, "end": address}), max_size=4))
    gateway = draw(st.one_of(st.none(), near))
    return net, pools, gateway


@given(subnet_and_pools())
@bounded(400)
def test_accepted_pools_lie_inside_the_subnet_and_never_overlap(case):
    net, pools, gateway = case
    try:
        kept = ipam.check_pools(net, pools, gateway)
    except (BadRequest, Conflict) as err:
        assert isinstance(err, APIError) and err.status in (400, 409)
        return
    first, last = ipam.usable(net)
    spans = sorted((int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"]))) for p in kept)
    assert len(spans) == len(pools)
    for start, end in spans:
        assert first <= start <= end <= last
        if gateway is not None:
            assert not start <= int(ipaddress.ip_address(gateway)) <= end
    for (_, prev_end), (start, _) in zip(spans, spans[1:], strict=False):
        assert prev_end < start


@given(networks(), st.booleans())
@bounded(200)
def test_default_pools_are_pools_check_pools_accepts(net, with_gateway):
    gateway = ipam.default_gateway(net) if with_gateway else None
    pools = ipam.default_pools(net, gateway)
    assert ipam.check_pools(net, pools, gateway) == pools


@given(st.lists(st.fixed_dictionaries({"destination": cidr_text, "nexthop": st.one_of(v4, v6, text)}), max_size=4),
       st.sampled_from([None, 4, 6]))
@bounded(300)
def test_routes_normalise_or_answer_400(entries, version):
    try:
        out = ipam.routes(entries, version)
    except BadRequest:
        return
    assert len(out) == len(entries) and len({(r["destination"], r["nexthop"]) for r in out}) == len(out)
    for route in out:
        dest, hop = ipaddress.ip_network(route["destination"]), ipaddress.ip_address(route["nexthop"])
        assert dest.version == hop.version and (version is None or dest.version == version)

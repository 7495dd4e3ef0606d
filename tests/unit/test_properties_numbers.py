"""Property test of the parsers that read a count from a client's text (a query parameter, a quota, a
size, a port or protocol number): each gives the number or a 4xx.

``str.isdigit()`` is true for characters ``int()`` refuses (superscripts: ``"²"``), so a check written with
it let a ValueError through as a 500; ``str.isdecimal()`` is true exactly for what ``int()`` reads."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from onestack.http.errors import APIError
from onestack.services.network.api import quotas as network_quotas
from onestack.services.network.service import subnetpools
from onestack.services.network.service.security_groups import SecurityGroupRules
from onestack.services.object.service import quotas as object_quotas
from onestack.services.placement.service import queries as placement_queries
from onestack.services.volume.service import volumes
from tests.unit.properties import bounded

numberish = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.integers(-10**12, 10**12).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4),  # every script's digits, "²" too
    st.sampled_from(["²", "-²", "٣", "1_0", " 7 ", "+5", "--5", "-0"]),
)

PARSERS = {
    "placement limit": placement_queries.parse_limit,
    "subnet pool integer": lambda text: subnetpools._integer("default_prefixlen", text),
    "volume size": volumes._size,
    "network quota": lambda text: network_quotas._limit("network", text),
    "security group protocol": lambda text: SecurityGroupRules._protocol(text, "IPv4"),
    "security group ports": lambda text: SecurityGroupRules._ports("tcp", text, text),
    "object quota": lambda text: object_quotas.check({"X-Account-Meta-Quota-Bytes": text}),
}


@given(st.sampled_from(sorted(PARSERS)), numberish)
@example("placement limit", "²")
@example("subnet pool integer", "-²")
@example("volume size", "²")
@example("network quota", "²")
@example("network quota", "--0")  # lstrip("-") took every sign: a ValueError too
@example("subnet pool integer", "--0")
@example("security group ports", "²")
@example("object quota", "²")
@bounded(400)
def test_a_count_in_text_parses_or_answers_4xx(parser, text):
    try:
        PARSERS[parser](text)
    except APIError as err:
        assert 400 <= err.status < 500

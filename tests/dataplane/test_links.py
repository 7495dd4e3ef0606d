"""Kernel primitives on their own: a bridge and a VXLAN device made once and found again unchanged,
flooding entries toward other hosts' tunnel addresses (loopback addresses here, so nothing leaves
the machine), and purge removing exactly what carries the owner's mark."""

from __future__ import annotations

import random
import uuid

import pytest

from onestack.drivers.netns import converge, links
from onestack.drivers.netns.ip import query
from onestack.drivers.netns.plan import HostPlan
from tests.dataplane.kernel import link_index, require_dataplane, sh

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane")]


@pytest.fixture
def owner(tmp_path):
    require_dataplane()
    mark = uuid.uuid4().hex[:8]
    yield mark
    converge.purge(mark, tmp_path)


def floods(name: str) -> set[str]:
    return {e["dst"] for e in query("fdb", "show", "dev", name, tool="bridge")
            if e.get("mac") == "00:00:00:00:00:00" and "dst" in e}


def test_a_vxlan_device_in_its_bridge_floods_to_exactly_the_remote_hosts_and_is_made_once(owner, tmp_path):
    bridge, vni = f"brqt{owner[:7]}", random.randrange(100000, 16000000)
    vxlan = f"vxlan-{vni}"
    port = random.randrange(20000, 60000)

    def make() -> tuple:
        links.ensure_bridge(links.snapshot(), bridge, 1450, owner)
        links.ensure_vxlan(links.snapshot(), vxlan, vni, "127.0.0.1", port, bridge, 1450, owner)
        links.ensure_fdb_remotes(vxlan, ("127.0.0.2", "127.0.0.3"))
        return link_index(bridge), link_index(vxlan)

    assert make() == make(), "the second round finds everything right and changes nothing"
    found = links.snapshot()
    assert found[vxlan].master == bridge and found[vxlan].mtu == 1450 and found[bridge].alias == f"onestack:{owner}"
    assert floods(vxlan) == {"127.0.0.2", "127.0.0.3"}
    links.ensure_fdb_remotes(vxlan, ("127.0.0.3",))
    assert floods(vxlan) == {"127.0.0.3"}

    # a link with another cloud's mark is never touched by this one's purge
    other = f"brqo{owner[:7]}"
    sh("ip", "link", "add", other, "type", "bridge")
    try:
        sh("ip", "link", "set", other, "alias", "onestack:someone")
        converge.purge(owner, tmp_path)
        assert link_index(bridge) is None and link_index(vxlan) is None
        assert link_index(other) is not None
    finally:
        sh("ip", "link", "del", other, check=False)


def test_a_stale_veth_is_unplugged_when_a_guest_owns_it_and_removed_when_the_data_plane_made_it(owner, tmp_path):
    """A container's veth (its other end in the container's namespace) whose port is no longer wanted is
    left to the compute driver, as a VM's tap is; a DHCP server's or router's veth (its other end in a
    qdhcp-/qrouter- namespace) is the data plane's to delete."""
    bridge = f"brs{owner}"
    container_ns, dhcp_ns = f"ctr-t{owner}", f"qdhcp-t{owner}"
    container_veth, dhcp_veth, tap = f"tapc{owner}", f"tapd{owner}", f"tapt{owner}"
    try:
        sh("ip", "link", "add", bridge, "type", "bridge")  # unmarked: not the plan's to remove
        for ns, veth in ((container_ns, container_veth), (dhcp_ns, dhcp_veth)):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "tuntap", "add", "dev", tap, "mode", "tap")
        for device in (container_veth, dhcp_veth, tap):
            sh("ip", "link", "set", device, "master", bridge, "alias", f"onestack:{owner}", "up")
        converge.converge(HostPlan(owner=owner), tmp_path)  # wants none of them
        found = links.snapshot()
        assert dhcp_veth not in found
        assert found[container_veth].master == "" and found[tap].master == ""
        assert found[container_veth].kind == "veth" and found[tap].kind == "tun"
    finally:
        for device in (container_veth, dhcp_veth, tap, bridge):
            sh("ip", "link", "del", device, check=False)
        for ns in (container_ns, dhcp_ns):
            sh("ip", "netns", "del", ns, check=False)

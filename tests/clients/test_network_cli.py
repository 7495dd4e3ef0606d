"""The operator's network stories with the unmodified `openstack` CLI: a flat provider network as
the way out, a router onto it, a private network behind the router, and a floating IP."""

from __future__ import annotations

import ipaddress
import json

from tests.api.helpers import name


def cli(cloud, *args, os_cloud="onestack"):
    out = cloud.openstack(*args, "-f", "json", cloud=os_cloud).stdout
    return json.loads(out) if out.strip() else None


def run(cloud, *args, os_cloud="onestack"):
    return cloud.openstack(*args, cloud=os_cloud)


def test_flat_external_network_router_and_floating_ip(cloud):
    ext, router, private, port = name("extnet"), name("router"), name("private"), name("vm-port")
    # (b) the admin makes the provider network everyone leaves the cloud by (the only flat network on
    # physnet "public" in these tests: it is deleted at the end).
    network = cli(cloud, "network", "create", ext, "--provider-network-type", "flat",
                  "--provider-physical-network", "public", "--external", "--share", os_cloud="onestack-admin")
    try:
        assert network["router:external"] is True and network["provider:network_type"] == "flat"
        cli(cloud, "subnet", "create", f"{ext}-sub", "--network", ext, "--subnet-range", "172.24.4.0/24",
            "--allocation-pool", "start=172.24.4.100,end=172.24.4.199", "--gateway", "172.24.4.1", "--no-dhcp",
            os_cloud="onestack-admin")
        # The demo member builds its own network behind a router onto it.
        cli(cloud, "router", "create", router)
        run(cloud, "router", "set", router, "--external-gateway", ext)
        cli(cloud, "network", "create", private)
        cli(cloud, "subnet", "create", f"{private}-sub", "--network", private, "--subnet-range", "10.77.0.0/24")
        run(cloud, "router", "add", "subnet", router, f"{private}-sub")
        shown = cli(cloud, "router", "show", router)
        [gateway_ip] = shown["external_gateway_info"]["external_fixed_ips"]
        assert ipaddress.ip_address(gateway_ip["ip_address"]) in ipaddress.ip_network("172.24.4.0/24")
        assert [i["ip_address"] for i in shown["interfaces_info"]] == ["10.77.0.1"]
        again = cloud.openstack("router", "add", "subnet", router, f"{private}-sub", cloud="onestack", check=False)
        assert again.returncode != 0 and "already has a port on subnet" in again.stderr

        # (c) a floating IP from the pool, mapped to a port on the private network.
        vm_port = cli(cloud, "port", "create", port, "--network", private)
        fip = cli(cloud, "floating", "ip", "create", ext)
        address = fip["floating_ip_address"]
        # From the allocation pool, never the gateway's address.
        assert ipaddress.ip_address(address) in ipaddress.ip_network("172.24.4.0/24")
        assert 100 <= int(address.rsplit(".", 1)[1]) <= 199 and address != gateway_ip["ip_address"]
        run(cloud, "floating", "ip", "set", "--port", port, address)
        mapped = cli(cloud, "floating", "ip", "show", address)
        assert mapped["port_id"] == vm_port["id"]
        assert mapped["fixed_ip_address"] == vm_port["fixed_ips"][0]["ip_address"]
        assert mapped["router_id"] == shown["id"]
        listed = cli(cloud, "floating", "ip", "list", "--port", port)
        assert [f["Floating IP Address"] for f in listed] == [address]

        # The router cannot lose what the floating IP needs while it is mapped.
        blocked = cloud.openstack("router", "remove", "subnet", router, f"{private}-sub", cloud="onestack",
                                  check=False)
        assert blocked.returncode != 0 and "required by one or more floating IPs" in blocked.stderr
        run(cloud, "floating", "ip", "unset", "--port", address)
        assert cli(cloud, "floating", "ip", "show", address)["port_id"] is None

        run(cloud, "floating", "ip", "delete", address)
        run(cloud, "port", "delete", port)
        run(cloud, "router", "remove", "subnet", router, f"{private}-sub")
        run(cloud, "router", "unset", "--external-gateway", router)
        assert cli(cloud, "router", "show", router)["external_gateway_info"] is None
        run(cloud, "router", "delete", router)
        run(cloud, "network", "delete", private)
    finally:
        cloud.openstack("network", "delete", ext, cloud="onestack-admin", check=False)
    assert cloud.openstack("network", "show", ext, cloud="onestack-admin", check=False).returncode != 0


def test_floating_ip_needs_a_routed_port(cloud):
    ext, private, port = name("ext"), name("lonely"), name("lonely-port")
    cli(cloud, "network", "create", ext, "--external", "--provider-network-type", "vxlan", os_cloud="onestack-admin")
    cli(cloud, "subnet", "create", f"{ext}-sub", "--network", ext, "--subnet-range", "192.0.2.0/24", "--no-dhcp",
        os_cloud="onestack-admin")
    cli(cloud, "network", "create", private)
    cli(cloud, "subnet", "create", f"{private}-sub", "--network", private, "--subnet-range", "10.78.0.0/24")
    cli(cloud, "port", "create", port, "--network", private)
    fip = cli(cloud, "floating", "ip", "create", ext)
    refused = cloud.openstack("floating", "ip", "set", "--port", port, fip["floating_ip_address"],
                              cloud="onestack", check=False)
    assert refused.returncode != 0 and "is not reachable from subnet" in refused.stderr
    chosen = cloud.openstack("floating", "ip", "create", ext, "--floating-ip-address", "192.0.2.99",
                             cloud="onestack", check=False)
    assert chosen.returncode != 0 and "disallowed by policy" in chosen.stderr

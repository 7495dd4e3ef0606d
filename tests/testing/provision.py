"""A user's own tooling, the kind of code the test cloud is for: it knows nothing of onestack.

``test_example.py`` tests it with the ``onestack_cloud`` fixture; docs/testing-cloud.md shows both.
"""

from __future__ import annotations

import openstack


class ProvisionError(Exception):
    pass


def web_server(name: str, conn=None, cidr: str = "10.0.0.0/24", image: str = "onestack-tiny",
               flavor: str = "m1.tiny", timeout: int = 60):
    """A network and subnet called ``name`` (made if missing) and a server on it; the server once ACTIVE.

    ``conn``: an openstacksdk connection; by default the one ``OS_CLOUD`` and clouds.yaml describe."""
    conn = conn or openstack.connect()
    network = conn.network.find_network(name) or conn.network.create_network(name=name)
    if not list(conn.network.subnets(network_id=network.id)):
        conn.network.create_subnet(network_id=network.id, name=name, ip_version=4, cidr=cidr)
    server = conn.compute.create_server(
        name=name, networks=[{"uuid": network.id}],
        image_id=conn.image.find_image(image, ignore_missing=False).id,
        flavor_id=conn.compute.find_flavor(flavor, ignore_missing=False).id)
    try:
        return conn.compute.wait_for_server(server, wait=timeout, interval=0.2)
    except openstack.exceptions.ResourceFailure:
        fault = conn.compute.get_server(server.id).fault or {}
        raise ProvisionError(f"{name} did not build: {fault.get('message', 'the cloud gave no reason')}") from None

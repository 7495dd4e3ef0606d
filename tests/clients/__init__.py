"""The real clients (the openstack CLI, openstacksdk, swiftclient, heatclient, boto3, Ansible) against a test cloud."""

from __future__ import annotations

import openstack
from openstack.config.loader import OpenStackConfig


def sdk_connection(cloud, entry: str = "onestack", **options) -> openstack.connection.Connection:
    """openstacksdk as ``entry`` of the test cloud's own clouds.yaml, and nothing else (no environment variables,
    no vendor files); ``options``: the Connection's own, such as a service's API version."""
    config = OpenStackConfig(config_files=[str(cloud.data_dir / "clouds.yaml")], vendor_files=[], load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud=entry), **options)

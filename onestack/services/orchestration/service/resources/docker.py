"""``DockerInc::Docker::Container``, the resource of Heat's contributed Docker plugin, as a container server of
this cloud rather than a container on a Docker daemon.

A template written for the plugin keeps its properties; what they become here:

| property | here |
| --- | --- |
| ``image`` | a Glance image of a container format (``docker``, ``oci``, or ``hypervisor_type=container``), by name or id |
| ``name`` | the server's name (its hostname follows it); else ``hostname`` (a ``hostname`` other than ``name`` is refused); else a generated name |
| ``cmd`` | the image's Cmd replaced (metadata ``container_cmd``) |
| ``env`` | ``NAME=value`` items, each the metadata ``container_env_NAME`` |
| ``user`` | metadata ``container_user`` |
| ``memory`` | bytes: the smallest flavor with that much RAM (unless ``flavor`` names one) |
| ``port_specs`` | ``port[/tcp|udp]``: a security group letting them in; with ``floating_network``, a floating IP forwarding each to the container (Neutron port forwardings) |
| ``port_bindings`` | ``{"80/tcp": 8080}`` or Docker's ``[{"HostPort": "8080"}]``: the floating IP's port for a container port |
| ``docker_endpoint`` | ignored: no Docker daemon is involved, the cloud's compute hosts run the container |
| ``restart_policy`` | only ``no`` (an exited container is SHUTOFF, as a VM that powered off) |

``privileged``, ``tty``, ``open_stdin``, ``stdin_once``, ``dns``, ``volumes``, ``volumes_from``, ``links``,
``cap_add``, ``cap_drop``, ``read_only``, ``cpu_shares``, ``cpu_set`` and ``devices`` are refused when set
(each with its reason in ``REFUSED``): the template is invalid rather than deployed differently.
onestack's own properties put the container on the cloud's networks: ``networks`` (as ``OS::Nova::Server``'s),
``security_groups``, ``flavor`` and ``floating_network``.  Stack suspend stops the container and resume
starts it (as the plugin does; a container cannot be suspended).
"""

from __future__ import annotations

import json

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.hot.functions import UNKNOWN
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    PropertyError,
    ResourceFailure,
    ignore_missing,
    image_id,
)
from onestack.services.orchestration.service.resources.neutron import find_id
from onestack.services.orchestration.service.resources.nova import NETWORK, Server

CONTAINER_FORMATS = ("docker", "oci")
MIB = 1024 * 1024
# property -> (the value that asks for nothing, why anything else is refused)
REFUSED = {
    "privileged": (False, "containers of this cloud run with Docker's default capabilities, never privileged"),
    "tty": (False, "the container's stdin is not attached: its serial console (os-getSerialConsole) gives a shell"),
    "open_stdin": (False, "the container's stdin is not attached: its serial console (os-getSerialConsole) "
                          "gives a shell"),
    "stdin_once": (False, "the container's stdin is not attached"),
    "dns": (None, "the container takes its DNS servers from its subnet (dns_nameservers) by DHCP"),
    "volumes": ({}, "no host directory is bound into a container of this cloud"),
    "volumes_from": ([], "no host directory is bound into a container of this cloud"),
    "links": (None, "containers reach each other by their addresses on a shared network (see networks)"),
    "cap_add": ([], "containers of this cloud have Docker's default capabilities"),
    "cap_drop": ([], "containers of this cloud have Docker's default capabilities"),
    "read_only": (False, "a container's root is writable (its own overlay layer)"),
    "cpu_shares": (0, "the flavor's vCPUs set the container's CPU limit"),
    "cpu_set": (None, "the flavor's vCPUs set the container's CPU limit"),
    "devices": ([], "a container of this cloud gets no host device"),
}


def _ports(specs, path: str) -> list[tuple[int, str]]:
    """``port_specs`` as (port, protocol) pairs; PropertyError for anything else."""
    found = []
    for i, spec in enumerate(specs or []):
        text = str(spec).strip()
        port, _, protocol = text.partition("/")
        protocol = protocol or "tcp"
        if not port.isdigit() or not 1 <= int(port) <= 65535 or protocol not in ("tcp", "udp"):
            raise PropertyError(f"{path}.port_specs[{i}]", f'"{spec}" is not a port, "port/tcp" or "port/udp"')
        found.append((int(port), protocol))
    return found


def _binding(value, path: str) -> int:
    """A host port from ``port_bindings``: a number, or Docker's ``[{"HostPort": "8080"}]``."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        value = value[0].get("HostPort")
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise PropertyError(path, f"{value!r} is not a port")
    return int(text)


def _key(port: int, protocol: str) -> str:
    return f"{port}/{protocol}"


class DockerContainer(Server):
    name = "DockerInc::Docker::Container"
    description = ("A container (Heat's contributed Docker plugin's type), run as a container server of this "
                   "cloud: on its networks, scheduled like a VM.")
    properties = {
        "docker_endpoint": Prop("string", "Docker daemon endpoint. Ignored: the cloud's compute hosts run the "
                                "container, no Docker daemon is involved."),
        "hostname": Prop("string", "Hostname of the container: the server's name when name is not given.",
                         default=""),
        "user": Prop("string", "Username or UID.", default=""),
        "memory": Prop("integer", "Memory limit (Bytes): the smallest flavor with this much RAM.", min=0),
        "port_specs": Prop("list", "TCP/UDP ports mapping: port, port/tcp or port/udp, let in by a security "
                           "group and, with floating_network, forwarded from a floating IP."),
        "privileged": Prop("boolean", "Enable extended privileges. Refused.", default=False),
        "tty": Prop("boolean", "Allocate a pseudo-tty. Refused.", default=False),
        "open_stdin": Prop("boolean", "Open stdin. Refused.", default=False),
        "stdin_once": Prop("boolean", "If true, close stdin after the 1 attached client disconnects. Refused.",
                           default=False),
        "env": Prop("list", "Set environment variables: NAME=value items.", schema=Prop("string")),
        "cmd": Prop("list", "Command to run after spawning the container.", default=[], schema=Prop("string")),
        "dns": Prop("list", "Set custom dns servers. Refused."),
        "image": Prop("string", "Image name: a Glance image of a container format.", required=True),
        "volumes": Prop("map", "Create a bind mount. Refused.", default={}),
        "volumes_from": Prop("list", "Mount all specified volumes. Refused.", default=[]),
        "port_bindings": Prop("map", "TCP/UDP ports bindings: the floating IP's port for a container port."),
        "links": Prop("map", "Links to other containers. Refused."),
        "name": Prop("string", "Name of the container."),
        "restart_policy": Prop("map", "Restart policies: only Name no.", default={}, schema={
            "Name": Prop("string", "The behavior to apply when the container exits.", default="no",
                         allowed=("no", "on-failure", "always")),
            "MaximumRetryCount": Prop("integer", "A maximum restart count for the on-failure policy.", default=0),
        }),
        "cap_add": Prop("list", "Be used to add kernel capabilities. Refused.", default=[], schema=Prop("string")),
        "cap_drop": Prop("list", "Be used to drop kernel capabilities. Refused.", default=[], schema=Prop("string")),
        "read_only": Prop("boolean", "Mount the container's root filesystem as read only. Refused.", default=False),
        "cpu_shares": Prop("integer", "Relative weight of CPU. Refused.", default=0),
        "devices": Prop("list", "Device mappings. Refused.", default=[]),
        "cpu_set": Prop("string", "The CPUs in which to allow execution. Refused."),
        # onestack's own: where the container runs on this cloud
        "networks": Prop("list", "onestack: the container's NICs, as OS::Nova::Server's networks.", schema=NETWORK),
        "security_groups": Prop("list", "onestack: security group names or IDs (besides the one port_specs make).",
                                default=[], schema=Prop("string")),
        "flavor": Prop("string", "onestack: the flavor (by ID or name), instead of one chosen by memory."),
        "floating_network": Prop("string", "onestack: the external network of the floating IP that forwards "
                                 "port_specs to the container."),
    }
    attributes = {
        "info": "Container info: the server as the Compute API shows it.",
        "network_info": "Container network info: IPAddress, Gateway, Ports, TcpPorts, UdpPorts.",
        "network_ip": "Container ip address.",
        "network_gateway": "Container ip gateway.",
        "network_tcp_ports": "Container TCP ports: the floating IP's ports forwarded to it, comma-separated.",
        "network_udp_ports": "Container UDP ports: the floating IP's ports forwarded to it, comma-separated.",
        "logs": "Container logs: its console output.",
        "logs_head": "Container first logs line.",
        "logs_tail": "Container last logs line.",
        "floating_ip": "onestack: the address of the floating IP forwarding port_specs, if any.",
    }

    @classmethod
    def schema_apply(cls, values, path: str) -> dict:
        props = super().schema_apply(values, path)
        if props is UNKNOWN:
            return props
        for key, (nothing, why) in REFUSED.items():
            value = props.get(key)
            if value is not UNKNOWN and value not in (nothing, None, [], {}, False, 0, ""):
                raise PropertyError(f"{path}.{key}", f"{key} is not supported by this cloud's containers: {why}")
        policy = props.get("restart_policy") or {}
        if policy is not UNKNOWN and policy.get("Name") not in (None, "no", UNKNOWN):
            raise PropertyError(f"{path}.restart_policy", "only Name no is supported: an exited container stays "
                                "SHUTOFF, as a VM that powers off (start it again with os-start)")
        name, hostname = props.get("name"), props.get("hostname")
        if name and hostname and UNKNOWN not in (name, hostname) and name != hostname:
            raise PropertyError(f"{path}.hostname", "a container's hostname follows its server's name here: give "
                                "name or hostname, or the same value to both")
        for i, item in enumerate(props.get("env") or [] if props.get("env") is not UNKNOWN else []):
            if item is not UNKNOWN and "=" not in item[1:]:
                raise PropertyError(f"{path}.env[{i}]", f'"{item}" is not NAME=value')
        specs = props.get("port_specs")
        ports = _ports(specs, path) if specs is not UNKNOWN and not _has_unknown(specs) else None
        bindings = props.get("port_bindings") or {}
        if bindings is not UNKNOWN and ports is not None:
            known = {_key(*p) for p in ports}
            for key, value in bindings.items():
                wanted = key if "/" in key else f"{key}/tcp"
                if wanted not in known:
                    raise PropertyError(f"{path}.port_bindings", f"{key} is not among the port_specs")
                if value is not UNKNOWN:
                    _binding(value, f"{path}.port_bindings.{key}")
        return props

    # -- making ------------------------------------------------------------------------------------------
    def _container_image(self, h: Handle) -> str:
        found = image_id(h, h.properties["image"])
        image = h.cloud.get("image", f"/v2/images/{found}")
        if image.get("container_format") not in CONTAINER_FORMATS and image.get("hypervisor_type") != "container":
            raise ResourceFailure(f"Image {h.properties['image']} is not a container image (container_format "
                                  "docker or oci, or the property hypervisor_type=container).", "StackValidationFailed")
        return found

    def _flavor_for_memory(self, h: Handle) -> str:
        if h.properties.get("flavor"):
            return self._flavor(h, h.properties["flavor"])
        wanted_mb = -(-(h.properties.get("memory") or 0) // MIB)
        flavors = h.cloud.get("compute", "/flavors/detail")["flavors"]
        fitting = sorted((f for f in flavors if f["ram"] >= wanted_mb),
                         key=lambda f: (f["ram"], f["vcpus"], f.get("disk") or 0, f["id"]))
        if not fitting:
            raise ResourceFailure(f"No flavor has {wanted_mb} MiB of RAM for memory "
                                  f"{h.properties.get('memory')}.", "NotFound")
        return fitting[0]["id"]

    def _metadata(self, h: Handle) -> dict:
        p = h.properties
        metadata = {}
        if p.get("cmd"):
            metadata["container_cmd"] = json.dumps(p["cmd"])
        if p.get("user"):
            metadata["container_user"] = p["user"]
        for item in p.get("env") or []:
            variable, _, value = item.partition("=")
            metadata[f"container_env_{variable}"] = value
        return metadata

    def _port_group(self, h: Handle) -> str | None:
        """The security group letting ``port_specs`` in (made once, removed with the container)."""
        ports = _ports(h.properties.get("port_specs"), "port_specs")
        if not ports:
            return None
        if h.data.get("port_group"):
            return h.data["port_group"]
        group = h.cloud.post("network", "/v2.0/security-groups", {"security_group": {
            "name": f"{h.physical_name()}-ports",
            "description": f"port_specs of {h.name} in stack {h.stack.name}"}})["security_group"]
        h.data["port_group"] = group["id"]
        for port, protocol in ports:
            for ethertype in ("IPv4", "IPv6"):
                h.cloud.post("network", "/v2.0/security-group-rules", {"security_group_rule": {
                    "security_group_id": group["id"], "direction": "ingress", "ethertype": ethertype,
                    "protocol": protocol, "port_range_min": port, "port_range_max": port}})
        return group["id"]

    def create(self, h: Handle) -> None:
        p = h.properties
        name = p.get("name") or p.get("hostname") or h.physical_name()
        server: dict = {"name": name, "imageRef": self._container_image(h), "flavorRef": self._flavor_for_memory(h),
                        "metadata": self._metadata(h)}
        groups = list(p.get("security_groups") or [])
        port_group = self._port_group(h)
        if port_group:
            groups = (groups or ["default"]) + [port_group]
        if groups:
            server["security_groups"] = [{"name": g} for g in groups]
        headers = self._networked(h, server)
        h.physical_id = h.cloud.post("compute", "/servers", {"server": server}, headers=headers)["server"]["id"]
        h.data["floating_ips"] = [n["floating_ip"] for n in p.get("networks") or [] if n.get("floating_ip")]

    def create_done(self, h: Handle) -> bool:
        if not super().create_done(h):
            return False
        self._forward(h)
        return True

    def _forward(self, h: Handle) -> None:
        """A floating IP on ``floating_network`` forwarding each of ``port_specs`` to the container's first
        port (its own: a floating IP with forwardings is bound to no port)."""
        ports = _ports(h.properties.get("port_specs"), "port_specs")
        if not ports or not h.properties.get("floating_network") or h.data.get("forwarded"):
            return
        nics = h.cloud.get("network", "/v2.0/ports", params={"device_id": h.physical_id})["ports"]
        if not nics or not nics[0].get("fixed_ips"):
            raise ResourceFailure("port_specs with floating_network need the container on a network (networks).",
                                  "StackValidationFailed")
        nic = nics[0]
        internal = next((f["ip_address"] for f in nic["fixed_ips"] if ":" not in f["ip_address"]),
                        nic["fixed_ips"][0]["ip_address"])
        if not h.data.get("floating_ip"):
            network = find_id(h, "networks", "network", h.properties["floating_network"])
            fip = h.cloud.post("network", "/v2.0/floatingips", {"floatingip": {
                "floating_network_id": network, "description": f"port_specs of {h.name}"}})["floatingip"]
            h.data["floating_ip"] = fip["id"]
        bindings = {(k if "/" in k else f"{k}/tcp"): v for k, v in (h.properties.get("port_bindings") or {}).items()}
        existing = {(f["internal_port"], f["protocol"]) for f in h.cloud.get(
            "network", f"/v2.0/floatingips/{h.data['floating_ip']}/port_forwardings")["port_forwardings"]}
        for port, protocol in ports:
            if (port, protocol) in existing:
                continue
            key = _key(port, protocol)
            outside = _binding(bindings[key], key) if key in bindings else port
            h.cloud.post("network", f"/v2.0/floatingips/{h.data['floating_ip']}/port_forwardings", {
                "port_forwarding": {"internal_port_id": nic["id"], "internal_ip_address": internal,
                                    "internal_port": port, "external_port": outside, "protocol": protocol}})
        h.data["forwarded"] = True

    # suspending: the plugin stops the container (a container cannot be suspended)
    SUSPEND, RESUME = ("os-stop", "SHUTOFF", "stop"), ("os-start", "ACTIVE", "start")

    # -- removing ----------------------------------------------------------------------------------------
    def delete_done(self, h: Handle) -> bool:
        if not super().delete_done(h):
            return False
        if h.data.get("floating_ip"):  # its forwardings go with it
            ignore_missing(lambda: h.cloud.delete("network", f"/v2.0/floatingips/{h.data['floating_ip']}"))
        if h.data.get("port_group"):  # once no port is in it
            ignore_missing(lambda: h.cloud.delete("network", f"/v2.0/security-groups/{h.data['port_group']}"))
        return True

    # -- attributes ----------------------------------------------------------------------------------------
    def attribute(self, h: Handle, name: str):
        if not h.physical_id:
            return None
        if name in ("show", "info"):
            return self._server(h)
        if name in ("logs", "logs_head", "logs_tail"):
            try:
                text = h.cloud.post("compute", f"/servers/{h.physical_id}/action",
                                    {"os-getConsoleOutput": {}})["output"]
            except CloudError as exc:
                if exc.status != 409:  # not running: no log to show
                    raise
                text = ""
            lines = text.rstrip("\n").split("\n")
            return {"logs": text, "logs_head": lines[0], "logs_tail": lines[-1]}[name]
        if name == "floating_ip":
            fip = h.data.get("floating_ip")
            return h.cloud.get("network", f"/v2.0/floatingips/{fip}")["floatingip"]["floating_ip_address"] \
                if fip else None
        info = self._network_info(h)
        return {"network_info": info, "network_ip": info["IPAddress"], "network_gateway": info["Gateway"],
                "network_tcp_ports": info["TcpPorts"], "network_udp_ports": info["UdpPorts"]}.get(name)

    def _network_info(self, h: Handle) -> dict:
        """Docker's NetworkSettings, as far as they mean anything here."""
        address, gateway = "", ""
        nics = h.cloud.get("network", "/v2.0/ports", params={"device_id": h.physical_id})["ports"]
        for fixed in (nics[0]["fixed_ips"] if nics else []):
            if ":" not in fixed["ip_address"]:
                address = fixed["ip_address"]
                gateway = h.cloud.get("network", f"/v2.0/subnets/{fixed['subnet_id']}")["subnet"].get("gateway_ip") \
                    or ""
                break
        ports: dict = {}
        if h.data.get("floating_ip"):
            fip = h.cloud.get("network", f"/v2.0/floatingips/{h.data['floating_ip']}")["floatingip"]
            forwardings = h.cloud.get("network", f"/v2.0/floatingips/{fip['id']}/port_forwardings")["port_forwardings"]
            for f in forwardings:
                ports[_key(f["internal_port"], f["protocol"])] = [
                    {"HostIp": fip["floating_ip_address"], "HostPort": str(f["external_port"])}]
        for port, protocol in _ports(h.properties.get("port_specs"), "port_specs"):
            ports.setdefault(_key(port, protocol), None)
        tcp = [v[0]["HostPort"] for k, v in sorted(ports.items()) if v and k.endswith("/tcp")]
        udp = [v[0]["HostPort"] for k, v in sorted(ports.items()) if v and k.endswith("/udp")]
        return {"IPAddress": address, "Gateway": gateway, "Ports": ports, "TcpPorts": ",".join(tcp),
                "UdpPorts": ",".join(udp)}


def _has_unknown(value) -> bool:
    return value is UNKNOWN or (isinstance(value, list) and any(v is UNKNOWN for v in value))


TYPES = (DockerContainer,)

"""The metadata proxy of one network: an haproxy inside its ``qdhcp-`` namespace, as Neutron runs one.

It listens on 169.254.169.254:80 and passes each guest's HTTP request to the cloud's metadata server
on a Unix socket, adding what identifies the guest as Neutron's proxy does: ``X-Forwarded-For`` (the
guest's address, as the namespace sees it) and ``X-Neutron-Network-ID``.  Every identity header the
guest sent is dropped first, so a guest cannot claim to be another, nor pose as a signed request.

haproxy is a few MB per network where a Python process was twenty.  Its configuration lives in the
network's folder with dnsmasq's; its pidfile lets a restarted agent adopt it; a changed configuration
restarts it.
"""

from __future__ import annotations

from pathlib import Path

from onestack.drivers.netns import daemons
from onestack.drivers.netns.plan import METADATA_ADDRESS

PORT = 80
CONFIG = "haproxy.cfg"
PIDFILE = "haproxy.pid"
# What the metadata server believes of a request from the proxy: a guest's own copies never pass.
IDENTITY_HEADERS = ("X-Forwarded-For", "X-Neutron-Network-ID", "X-Neutron-Router-ID", "X-Instance-ID",
                    "X-Instance-ID-Signature", "X-Tenant-ID")


def render(network_id: str, socket_path: Path, folder: Path) -> str:
    """haproxy's configuration for the proxy of ``network_id``."""
    dropped = [f"    http-request del-header {name}" for name in IDENTITY_HEADERS]
    return "\n".join([
        "global",
        "    daemon",
        f"    pidfile {folder / PIDFILE}",
        # root, like dnsmasq here: the metadata socket is the cloud user's alone (mode 0600)
        "    maxconn 1024",
        "    nbthread 1",  # a network's guests ask little; each thread costs memory in every namespace
        "",
        "defaults",
        "    mode http",
        "    timeout connect 5s",
        "    timeout http-request 30s",
        "    timeout client 60s",
        "    timeout server 60s",
        "",
        "listen metadata",
        f"    bind {METADATA_ADDRESS}:{PORT}",
        *dropped,
        "    http-request set-header X-Forwarded-For %[src]",
        f"    http-request set-header X-Neutron-Network-ID {network_id}",
        f"    server metadata {socket_path}",
    ]) + "\n"


def pid(folder: Path, netns: str | None = None) -> int | None:
    """The proxy serving ``folder`` (and, when given, living in ``netns``), if it runs."""
    return daemons.running(folder / PIDFILE, str(folder / CONFIG), netns)


def ensure(netns: str, network_id: str, socket_path: Path, folder: Path) -> int:
    """The proxy of ``network_id`` running in ``netns`` with its current configuration; returns its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = daemons.write_if_changed(folder / CONFIG, render(network_id, socket_path, folder))
    running = pid(folder, netns)
    if running is not None and not changed:
        return running
    daemons.stop(folder / PIDFILE, str(folder / CONFIG))
    _retire_python_proxy(folder)
    return daemons.launch(netns, ["haproxy", "-f", str(folder / CONFIG)], folder / PIDFILE, str(folder / CONFIG),
                          f"the metadata proxy of {network_id}")


def stop(folder: Path) -> None:
    """No proxy for ``folder``; its files stay (the folder is dnsmasq's too, which removes it)."""
    daemons.stop(folder / PIDFILE, str(folder / CONFIG))
    (folder / CONFIG).unlink(missing_ok=True)
    _retire_python_proxy(folder)


def _retire_python_proxy(folder: Path) -> None:
    """A cloud upgraded in place may still run the Python proxy earlier versions started, holding port 80
    in the namespace: it goes, and its files with it.  (Its command line named its pidfile.)"""
    legacy = folder / "metadata-proxy.pid"
    if legacy.exists():
        daemons.stop(legacy, str(legacy))
        legacy.unlink(missing_ok=True)
        (folder / "metadata-proxy.log").unlink(missing_ok=True)

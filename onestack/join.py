"""``onestack compute join``: one more host of a cloud on PostgreSQL, with no API of its own.

It runs, for this host only, the compute engine (its instances) and the network data plane in the
compute role (bridges, VXLAN toward the other hosts' tunnel addresses, its guests' taps; DHCP and
routers stay on the controller).  Its host registers itself in the shared database and placement
and heartbeats; SIGTERM stops the loops and leaves guests and kernel objects as they are, like
``onestack down``.  Image data is read from the image store directory, which the hosts share
(``image_dir``, e.g. on NFS, as with Glance's file store).
"""

from __future__ import annotations

import logging
import signal
import threading

from onestack.config import Settings
from onestack.runtime import Runtime

LOG = logging.getLogger("onestack.join")


def run(settings: Settings) -> None:
    """Serve this host until SIGTERM or SIGINT."""
    if not settings.database.startswith("postgresql"):
        raise ValueError("a joined host shares the controller's PostgreSQL database: give --database postgresql://...")
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runtime = Runtime(settings, network_node=False, guests=True)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        runtime.start()
        LOG.info("host %s joined (tunnel %s, data plane %s: %s)", runtime.compute.hosts.names(),
                 settings.network.tunnel_ip or "-", "on" if runtime.dataplane else "off", runtime.dataplane_reason)
        stopping.wait()
    finally:
        runtime.stop()
        runtime.close()
    LOG.info("stopped; guests keep running")

"""kill -9 of the server at random moments under a mixed workload, then the invariants (see chaos.py).

`make test` runs 3 kills over about 20 s; `make chaos` runs CHAOS_KILLS (25) over CHAOS_SECONDS (240), with
the kernel data plane on (CHAOS_DATAPLANE=1: namespaces and dnsmasq are checked against the rows too) and
real QEMU guests (CHAOS_QEMU=1: the servers boot onestack-tiny, and their QEMUs are checked against them).
With QEMU guests the workload also makes, stops, starts and deletes container servers under runc (their
containers, cgroup processes, DHCP clients and namespaces are checked against the servers); `make test`
runs a second bounded form with container servers only (a QEMU host, no VM), where root and runc allow.
The randomness is seeded (CHAOS_SEED); what is asserted is only the invariants, whatever the kills hit.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest

from onestack.drivers.netns import converge
from onestack.drivers.runc import runtime
from onestack.guestimage import build
from onestack.guestimage import container as container_image
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import require_dataplane
from tests.hardening.chaos import Chaos

SECONDS = float(os.environ.get("CHAOS_SECONDS", "20"))


def containers_possible() -> bool:
    return os.geteuid() == 0 and runtime.installed()


# make chaos runs for CHAOS_SECONDS, then restarts and checks: more than the suite's 10-minute default
@pytest.mark.timeout(max(600, int(SECONDS) + 600))
def test_kill_9_anywhere_loses_nothing(tmp_path, capsys):
    guests = os.environ.get("CHAOS_QEMU") == "1"
    run_chaos(tmp_path, capsys, guests=guests, containers=guests and containers_possible())


@pytest.mark.timeout(600)
def test_kill_9_leaves_no_container_the_database_does_not_want(tmp_path, capsys):
    """The bounded form with container servers (runc on a QEMU host, no VM): `make chaos` runs them beside
    its QEMU guests."""
    if not containers_possible():
        pytest.skip("container servers need root and runc (make install installs it)")
    if os.environ.get("CHAOS_QEMU") == "1":
        pytest.skip("make chaos runs container servers beside its QEMU guests (the test above)")
    run_chaos(tmp_path, capsys, guests=False, containers=True)


def run_chaos(tmp_path, capsys, guests: bool, containers: bool) -> None:
    dataplane = os.environ.get("CHAOS_DATAPLANE") == "1"
    settings: dict = {}
    if dataplane:
        require_dataplane()
        vni = random.randrange(100000, 16000000)  # clouds sharing the machine must not share a VXLAN device
        settings["network"] = {"dataplane": True, "vni_ranges": [[vni, vni + 999]]}
    if guests or containers:
        settings["compute"] = {"driver": "qemu", "containers": containers}
    (tmp_path / "chaos").mkdir()
    cloud = Cloud(tmp_path / "chaos", settings=settings).start()
    try:
        run = Chaos(cloud, seed=int(os.environ.get("CHAOS_SEED", "19")),
                    kills=int(os.environ.get("CHAOS_KILLS", "3")),
                    seconds=SECONDS,
                    threads=int(os.environ.get("CHAOS_THREADS", "3")), dataplane=dataplane,
                    guest_image=build.build().path if guests else None,
                    container_image=container_image.build().path if containers else None, vms=guests or not containers)
        report = run.run()
        with capsys.disabled():
            print("\n" + "\n".join(report.lines()))
        assert report.kills == run.kills
        assert not report.violations, "\n".join(report.violations)
    finally:
        # the server's logs outlive the purge (under the test's tmp dir), to read what a violation came from
        (tmp_path / "logs").mkdir()
        for log in (cloud.data_dir.glob("*.log") if cloud.data_dir.exists() else ()):
            shutil.copy(log, tmp_path / "logs" / log.name)
        if dataplane or containers:
            owner = (cloud.data_dir / "dataplane" / "owner").read_text().strip() if dataplane else ""
            cloud.purge()  # the containers outlive onestack by design: purge stops them
            if dataplane:
                assert converge.owned_objects(owner, cloud.data_dir / "dataplane") == {
                    "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}
        else:
            cloud.stop()

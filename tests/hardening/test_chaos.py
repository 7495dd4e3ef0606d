"""kill -9 of the server at random moments under a mixed workload, then the invariants (see chaos.py).

`make test` runs 3 kills over about 20 s; `make chaos` runs CHAOS_KILLS (25) over CHAOS_SECONDS (240), with
the kernel data plane on (CHAOS_DATAPLANE=1: namespaces and dnsmasq are checked against the rows too) and
real QEMU guests (CHAOS_QEMU=1: the servers boot onestack-tiny, and their QEMUs are checked against them).
The randomness is seeded (CHAOS_SEED); what is asserted is only the invariants, whatever the kills hit.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest

from onestack.drivers.netns import converge
from onestack.guestimage import build
from tests.cloudfixture import Cloud
from tests.dataplane.kernel import require_dataplane
from tests.hardening.chaos import Chaos

SECONDS = float(os.environ.get("CHAOS_SECONDS", "20"))


# make chaos runs for CHAOS_SECONDS, then restarts and checks: more than the suite's 10-minute default
@pytest.mark.timeout(max(600, int(SECONDS) + 600))
def test_kill_9_anywhere_loses_nothing(tmp_path, capsys):
    dataplane = os.environ.get("CHAOS_DATAPLANE") == "1"
    guests = os.environ.get("CHAOS_QEMU") == "1"
    settings: dict = {}
    if dataplane:
        require_dataplane()
        vni = random.randrange(100000, 16000000)  # clouds sharing the machine must not share a VXLAN device
        settings["network"] = {"dataplane": True, "vni_ranges": [[vni, vni + 999]]}
    if guests:
        settings["compute"] = {"driver": "qemu"}
    (tmp_path / "chaos").mkdir()
    cloud = Cloud(tmp_path / "chaos", settings=settings).start()
    try:
        run = Chaos(cloud, seed=int(os.environ.get("CHAOS_SEED", "19")),
                    kills=int(os.environ.get("CHAOS_KILLS", "3")),
                    seconds=SECONDS,
                    threads=int(os.environ.get("CHAOS_THREADS", "3")), dataplane=dataplane,
                    guest_image=build.build().path if guests else None)
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
        if dataplane:
            owner = (cloud.data_dir / "dataplane" / "owner").read_text().strip()
            cloud.purge()
            assert converge.owned_objects(owner, cloud.data_dir / "dataplane") == {
                "namespaces": set(), "links": set(), "dnsmasq": set(), "proxies": set(), "radvd": set()}
        else:
            cloud.stop()

"""The KVM probe's answer is kept for the host's boot where every cloud on the host finds it."""

from __future__ import annotations

import json

from onestack.drivers.qemu import accel


def test_a_new_state_dir_takes_the_answer_this_boot_already_found(tmp_path, monkeypatch):
    host = tmp_path / "run-onestack"
    host.mkdir()
    (host / "accel.json").write_text(json.dumps({"boot_id": accel._boot_id(), "accel": "tcg", "why": "probed"}))
    monkeypatch.setattr(accel, "HOST_STATE", host)
    # a probe here would take its whole 8 s on a host whose KVM hangs, and answer from the kernel
    assert accel.choose(tmp_path / "new-cloud") == ("tcg", "probed")


def test_an_answer_of_another_boot_is_not_taken(tmp_path, monkeypatch):
    host, state = tmp_path / "run-onestack", tmp_path / "cloud"
    for place, why in ((host, "an old boot"), (state, "this boot")):
        place.mkdir()
        boot = "another-boot" if place == host else accel._boot_id()
        (place / "accel.json").write_text(json.dumps({"boot_id": boot, "accel": "kvm", "why": why}))
    monkeypatch.setattr(accel, "HOST_STATE", host)
    assert accel.choose(state) == ("kvm", "this boot")

"""The diagnostic watchers' switch (onestack/watching.py): off unless asked, and on in forked workers too."""

from __future__ import annotations

import os

from onestack.watching import watch_if_asked


def test_a_watcher_runs_only_when_its_variable_is_set(monkeypatch):
    seen = []
    monkeypatch.delenv("ONESTACK_TEST_WATCH", raising=False)
    watch_if_asked("ONESTACK_TEST_WATCH", seen.append, before=lambda: seen.append("before"))
    assert seen == []


def test_a_watcher_runs_in_this_process_and_again_in_a_forked_one(monkeypatch):
    seen = []
    monkeypatch.setenv("ONESTACK_TEST_WATCH", "2.5")
    watch_if_asked("ONESTACK_TEST_WATCH", seen.append, before=lambda: seen.append("before"))
    assert seen == ["before", 2.5]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what its own copy of ``seen`` holds after the fork hooks ran
        os.write(write, repr(seen).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == repr(["before", 2.5, 2.5])
    os.close(read)

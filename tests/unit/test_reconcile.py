import threading
import time

from onestack.reconcile.loop import KeyedQueue, Loop


def test_a_waiting_key_is_queued_once():
    q = KeyedQueue()
    for key in ("a", "b", "a", "a"):
        q.put(key)
    assert [q.get(0.1), q.get(0.1), q.get(0.01)] == ["a", "b", None]


def test_a_key_put_while_busy_comes_back_after_done():
    q = KeyedQueue()
    q.put("a")
    assert q.get(0.1) == "a"
    q.put("a")
    assert q.get(0.01) is None  # not handed out twice at once
    q.done("a")
    assert q.get(0.1) == "a"


def test_delayed_keys_wait_their_turn():
    q = KeyedQueue()
    q.put("late", delay=0.2)
    q.put("now")
    assert q.get(0.1) == "now"
    started = time.monotonic()
    assert q.get(1.0) == "late" and time.monotonic() - started >= 0.1


def test_a_delay_that_runs_out_while_its_key_is_busy_waits_for_done_without_spinning():
    """A key woken while a delayed turn of it is pending is handled at once; the delay running out during
    that long handling must not make idle workers spin (each ``get`` waits), and the key comes back right
    after its ``done``."""
    q = KeyedQueue()
    q.put("k", delay=0.05)
    q.put("k")
    assert q.get(0.1) == "k"  # busy from now on; its delayed turn falls due meanwhile
    time.sleep(0.06)  # the 0.05 s delay runs out: the time itself is what is tested
    spins = 0
    original = q._promote_due

    def counted():
        nonlocal spins
        spins += 1
        original()

    q._promote_due = counted
    assert q.get(0.2) is None  # nothing else to do: one wait until the timeout, not a busy loop
    assert spins < 5, spins
    threading.Timer(0.05, q.done, ("k",)).start()
    started = time.monotonic()
    assert q.get(1.0) == "k" and time.monotonic() - started < 0.5


def test_loop_retries_failures_and_resync_finds_work():
    attempts: dict[str, int] = {}
    succeeded_at: list[int] = []
    done = threading.Event()

    def handle(key: str):
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] < 3:
            raise RuntimeError("temporary")
        succeeded_at.append(attempts[key])
        done.set()
        return None

    loop = Loop("test", handle, lambda: ["k"] if not done.is_set() else [], workers=1, resync_every=0.05)
    loop.start()
    try:
        assert done.wait(5)
    finally:
        loop.stop()
    assert succeeded_at[0] == 3  # two failures, each retried after a backoff


def test_stop_wakes_idle_workers_at_once():
    """Workers waiting for a key end when the loop stops, not when their wait times out (a test cloud
    stops in a fraction of a second)."""
    loop = Loop("idle", lambda key: None, lambda: [], workers=4, resync_every=60)
    loop.start()
    time.sleep(0.05)  # every worker is inside its wait
    started = time.monotonic()
    loop.stop()
    assert time.monotonic() - started < 0.2
    assert not any(t.is_alive() for t in loop._threads)


def test_stop_waits_for_busy_handlers_once_in_all_not_once_a_thread():
    """Four handlers that do not return: the loop's stop gives them one grace period together, so a process
    with several loops still stops in bounded time."""
    release, entered = threading.Event(), threading.Semaphore(0)

    def stuck(_key: str) -> None:
        entered.release()
        release.wait(30)

    loop = Loop("busy", stuck, lambda: ["a", "b", "c", "d"], workers=4, resync_every=60)
    loop.start()
    try:
        for _ in range(4):
            assert entered.acquire(timeout=10), "every worker took a key"
        started = time.monotonic()
        loop.stop(grace=1.0)
        elapsed = time.monotonic() - started
        # one grace in all (a grace a thread would take 4 s or more: each join would wait it out)
        assert 0.9 <= elapsed < 2.5, elapsed
    finally:
        release.set()

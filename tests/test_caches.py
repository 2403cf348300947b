"""The app's caches: made once per key, made outside any lock, bounded, dropped with their object."""

import gc
import threading
import weakref

from ui.caches import ServerCache, made_for, once_per


class Owner:
    """Something a value is made for (a model, a run): any object that can be weakly referenced."""


class Study:
    """A value made for an owner (a lesion study, a predictor)."""


def test_a_slow_value_never_holds_up_another_key():
    cache: ServerCache[str] = ServerCache(most=8)
    slow_started, slow_may_end = threading.Event(), threading.Event()

    def slow() -> str:
        slow_started.set()
        assert slow_may_end.wait(timeout=30)
        return "slow"

    worker = threading.Thread(target=cache.get, args=("slow", slow))
    worker.start()
    assert slow_started.wait(timeout=30)
    # While the slow one is being made, another session's value is made and read at once.
    assert cache.get("fast", lambda: "fast") == "fast" and cache.peek("fast") == "fast"
    assert cache.peek("slow") is None
    slow_may_end.set()
    worker.join(timeout=30)
    assert cache.peek("slow") == "slow"


def test_two_sessions_making_one_key_at_once_share_the_first_value_kept():
    cache: ServerCache[list] = ServerCache(most=8)
    both_making = threading.Barrier(2, timeout=30)
    results = []

    def make() -> list:
        both_making.wait()  # neither waits for the other's value: both are made
        return [threading.get_ident()]

    threads = [threading.Thread(target=lambda: results.append(cache.get("key", make))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2 and results[0] is results[1] is cache.peek("key")


def test_a_server_cache_keeps_its_bound_the_least_recently_used_going_first():
    cache: ServerCache[bytes] = ServerCache(most=10, weigh=len)
    cache.get("a", lambda: b"1234")
    cache.get("b", lambda: b"1234")
    assert cache.get("a", lambda: b"made again") == b"1234"  # read: now the most recently used
    cache.get("c", lambda: b"1234")  # 12 bytes > 10: "b" goes
    assert cache.peek("b") is None and cache.peek("a") == b"1234" and cache.peek("c") == b"1234"
    cache.get("huge", lambda: b"x" * 100)  # over the bound alone: the newest still stays
    assert cache.peek("huge") == b"x" * 100 and cache.peek("a") is None


def test_a_value_made_once_per_object_is_shared_and_goes_with_its_object():
    owner, calls = Owner(), []
    made = once_per(owner, "study", lambda: calls.append(1) or Study())
    assert once_per(owner, "study", lambda: calls.append(1) or Study()) is made and calls == [1]
    assert made_for(owner, "study") and not made_for(owner, "other") and not made_for(Owner(), "study")
    value = weakref.ref(made)
    del owner, made
    gc.collect()
    assert value() is None

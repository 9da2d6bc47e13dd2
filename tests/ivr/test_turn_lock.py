"""The SQLite writers' lock (ivr.db.TurnLock): reentrant, and handed to waiting threads in
the order they asked for it."""

from __future__ import annotations

import threading

from ivr.db import TurnLock


def wait_until(condition) -> None:
    event = threading.Event()
    while not condition():
        event.wait(0.001)


def test_waiting_threads_get_the_lock_in_the_order_they_asked():
    lock = TurnLock()
    order: list[int] = []
    threads = []
    with lock:
        for n in range(12):
            thread = threading.Thread(target=lambda n=n: _take(lock, order, n))
            thread.start()
            threads.append(thread)
            wait_until(lambda n=n: len(lock._queue) == n + 1)  # queued behind the others
    for thread in threads:
        thread.join()
    assert order == list(range(12))
    assert lock._owner is None and not lock._queue


def _take(lock: TurnLock, order: list[int], n: int) -> None:
    with lock:
        order.append(n)


def test_the_owner_may_take_it_again_and_others_wait_for_the_outermost_release():
    lock = TurnLock()
    inside = []
    with lock:
        with lock:
            other = threading.Thread(target=lambda: _take(lock, inside, 1))
            other.start()
            wait_until(lambda: len(lock._queue) == 1)
        assert inside == []  # one level still held
    other.join()
    assert inside == [1]

"""The server-wide cap on long jobs (in-app training, the ResNet race).

A long job takes both cores for a minute. Two at once would starve every other session's slider, so at
most `LAB_JOBS` (environment, default 1) run at a time in this process; the rest wait in line, and their
page says so and how long they have waited. A job that waits or runs inside a session's script run ends
with it: a click elsewhere stops the run, and the `with` block gives its place back.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time

LIMIT = max(1, int(os.environ.get("LAB_JOBS", "1")))
_cond = threading.Condition()
_running = 0
_waiting: list[object] = []  # tickets in arrival order: who is ahead of whom


def running() -> int:
    return _running


def waiting() -> int:
    return len(_waiting)


@contextlib.contextmanager
def slot(on_wait=None, poll: float = 1.0):
    """Hold one of the LIMIT places for the block. While none is free, calls on_wait(ahead, seconds)
    about every `poll` seconds: `ahead` is how many jobs run or wait before this one."""
    global _running
    ticket = object()
    start = time.monotonic()
    with _cond:
        _waiting.append(ticket)
    try:
        while True:
            with _cond:
                if _running < LIMIT and _waiting[0] is ticket:
                    _waiting.remove(ticket)
                    _running += 1
                    break
                ahead = _running + _waiting.index(ticket)
            if on_wait is not None:
                on_wait(ahead, time.monotonic() - start)  # a Streamlit call: a rerun request stops us here
            with _cond:
                _cond.wait(poll)
    except BaseException:
        with _cond:
            if ticket in _waiting:
                _waiting.remove(ticket)
            _cond.notify_all()
        raise
    try:
        yield
    finally:
        with _cond:
            _running -= 1
            _cond.notify_all()

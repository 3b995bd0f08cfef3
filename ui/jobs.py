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
# What one person may hold, running or waiting: one job per tab (session), two per address (a student with a
# second tab open; a classroom behind one NAT address would want more: LAB_JOBS_PER_CLIENT), and a job stops
# after MAX_SECONDS of running (a 50-epoch U-Net on MNIST's 60,000 would otherwise hold the place for hours).
PER_SESSION = 1
PER_CLIENT = max(1, int(os.environ.get("LAB_JOBS_PER_CLIENT", "2")))
MAX_SECONDS = max(60.0, float(os.environ.get("LAB_JOB_SECONDS", "900")))
_cond = threading.Condition()
_running = 0
_waiting: list[object] = []  # tickets in arrival order: who is ahead of whom
_claims: dict[object, tuple[str, str]] = {}  # a live job's claim → its (session, client address)


class Refused(Exception):
    """A job this person may not start now: `why` is "session" (this tab has one) or "client" (this address
    has PER_CLIENT), `limit` the number allowed."""

    def __init__(self, why: str, limit: int):
        super().__init__(f"refused: {why} already holds {limit} job(s)")
        self.why, self.limit = why, limit


def owner() -> tuple[str, str]:
    """(session id, client address) of the script run calling: the address is HAProxy's X-Forwarded-For when the
    connection comes from the proxy (loopback or a private network: deploy/haproxy.cfg sets the header and
    overwrites any a browser sent), else the connection's own."""
    import ipaddress

    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = getattr(ctx, "session_id", None) or "no-session"
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # noqa: BLE001 — no client (AppTest, a thread): the session stands for its person
        return session, session
    try:
        behind_proxy = peer is None or ipaddress.ip_address(peer).is_private or ipaddress.ip_address(peer).is_loopback
    except ValueError:
        behind_proxy = False
    client = forwarded.split(",")[-1].strip() if forwarded and behind_proxy else peer
    return session, client or "local"


def claim(who: tuple[str, str] | None = None) -> object:
    """A claim on one job for `who` (default: the calling run's owner()), or Refused naming the limit; give it
    back with release()."""
    session, client = who or owner()
    with _cond:
        if sum(s == session for s, _ in _claims.values()) >= PER_SESSION:
            raise Refused("session", PER_SESSION)
        if sum(c == client for _, c in _claims.values()) >= PER_CLIENT:
            raise Refused("client", PER_CLIENT)
        token = object()
        _claims[token] = (session, client)
        return token


def release(token: object) -> None:
    with _cond:
        _claims.pop(token, None)


@contextlib.contextmanager
def claimed(who: tuple[str, str] | None = None):
    """claim() for the block: a job that runs inside one script run (the ResNet race, an in-app detector)."""
    token = claim(who)
    try:
        yield token
    finally:
        release(token)


def refusal(t, exc: Refused) -> str:
    """The refused job's message, in words."""
    return t(f"jobs.refused_{exc.why}", limit=exc.limit)


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

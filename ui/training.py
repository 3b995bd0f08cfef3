"""A training run owned by one session: started on its own thread, through the server-wide job cap and the
per-person limits (ui.jobs), and stopped when the session is gone or its time is up.

Streamlit says nothing when a session ends (a closed tab), so the page's polling fragment touches the run
on every poll, and a watchdog stops a run nobody has looked at for `ABANDONED_AFTER` seconds, or one that has
run `jobs.MAX_SECONDS`. Each run has a random id: what is cached of it (ui.models.own_row) is found by that,
never by the object's address, which Python reuses once it is freed.
"""
from __future__ import annotations

import secrets
import threading
import time

from core.livetrain import LiveTraining
from ui import jobs

ABANDONED_AFTER = 60.0  # seconds without a poll: the tab is gone (the page polls every second)


class SessionTraining:
    def __init__(self, training: LiveTraining, claim: object | None = None, max_seconds: float | None = None):
        self.training = training
        self.id = secrets.token_hex(16)
        self.last_seen = time.monotonic()
        self.timed_out = False  # stopped by the wall-time limit, not by its person
        self.max_seconds = jobs.MAX_SECONDS if max_seconds is None else max_seconds
        self._claim = claim
        self._watchdog = threading.Thread(target=self._watch, name="lab-training-watchdog", daemon=True)

    def start(self):
        self.training.start()
        self._watchdog.start()
        return self

    def seen(self):
        self.last_seen = time.monotonic()

    def _watch(self):
        try:
            while self.training.is_alive():
                if time.monotonic() - self.last_seen > ABANDONED_AFTER:
                    self.training.stop()
                    break
                began = self.training.running_at  # time.time() when it got its place; waiting does not count
                if began is not None and time.time() - began > self.max_seconds:
                    self.timed_out = True
                    self.training.stop()
                    break
                time.sleep(1.0)
            self.training.join()
        finally:
            if self._claim is not None:
                jobs.release(self._claim)


def start(build, data, who=None, max_seconds: float | None = None, **options) -> SessionTraining:
    """A LiveTraining that takes one of the server's job places in its own thread (it waits there, queued).
    jobs.Refused, before anything starts, when this person already holds what the limits allow."""
    claim = jobs.claim(who)
    try:
        return SessionTraining(LiveTraining(build, data, slot=jobs.slot, **options), claim, max_seconds).start()
    except BaseException:
        jobs.release(claim)
        raise

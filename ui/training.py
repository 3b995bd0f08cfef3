"""A training run owned by one session: started on its own thread, through the server-wide job cap,
and stopped when the session is gone.

Streamlit says nothing when a session ends (a closed tab), so the page's polling fragment touches the run
on every poll, and a watchdog stops a run nobody has looked at for `ABANDONED_AFTER` seconds.
"""
from __future__ import annotations

import threading
import time

from core.livetrain import LiveTraining
from ui import jobs

ABANDONED_AFTER = 60.0  # seconds without a poll: the tab is gone (the page polls every second)


class SessionTraining:
    def __init__(self, training: LiveTraining):
        self.training = training
        self.last_seen = time.monotonic()
        self._watchdog = threading.Thread(target=self._watch, name="lab-training-watchdog", daemon=True)

    def start(self):
        self.training.start()
        self._watchdog.start()
        return self

    def seen(self):
        self.last_seen = time.monotonic()

    def _watch(self):
        while self.training.is_alive():
            if time.monotonic() - self.last_seen > ABANDONED_AFTER:
                self.training.stop()
                return
            time.sleep(1.0)


def start(build, data, **options) -> SessionTraining:
    """A LiveTraining that takes one of the server's job places in its own thread (it waits there, queued)."""
    return SessionTraining(LiveTraining(build, data, slot=jobs.slot, **options)).start()

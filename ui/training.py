"""A training run owned by one session: started on its own thread, through the server-wide job cap and the
per-person limits (ui.jobs), and stopped when the session is gone or its time is up.

Streamlit says nothing when a session ends (a closed tab), so the page's polling fragment touches the run
on every poll, and a watchdog stops a run nobody has looked at for `ABANDONED_AFTER` seconds, or one that has
run `jobs.MAX_SECONDS`. Each run has a random id: what is cached of it (ui.models.own_row) is found by that,
never by the object's address, which Python reuses once it is freed.

When a run ends, `measure` scores its model as the shipped ones were scored (PsnrCurve), so the denoising page can
draw yours beside them.
"""
from __future__ import annotations

import secrets
import threading
import time

from core.livetrain import LiveTraining
from ui import jobs

ABANDONED_AFTER = 60.0  # seconds without a poll: the tab is gone (the page polls every second)
MEASURE_IMAGES = None  # yours is measured on every shipped test digit, as the shipped models were; tests take fewer


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


class Stopped(Exception):
    """Raised inside a measuring thread to leave the queue, or a batch, when it is asked to stop."""


class PsnrCurve:
    """Yours measured as the shipped models are, for the denoising page's chart: core.train.psnr_by_factor (every
    test digit given, EVAL_FACTORS × data.NOISE_KINDS, EVAL_SEED noise) in a thread of its own, under the server's
    job cap. Tens of seconds to minutes of both cores (the U-Net: ~3 min on 2 cores), so it waits for a place like
    a training does.

    Read from any thread: `done` and `total` (factor × kind pairs), `psnr_by_factor` (kind → {"0.1": dB}, a copy,
    filled as it goes, the manifest's format and rounding), `error` (a sentence, or None), `queue` ((jobs ahead,
    seconds waited) while it waits for a place), `finished` (nothing more will come: measured, stopped or failed),
    `stopped`. It holds no Streamlit object: `alive` is a plain callable, false once its session has gone.
    """

    def __init__(self, forward, digits, alive=None, slot=jobs.slot, images: int | None = None,
                 batch_size: int = 500):
        from core import data, train

        self.total = len(data.NOISE_KINDS) * len(train.EVAL_FACTORS)
        self.images = len(digits[:images])  # how many digits it is measured on
        self.done = 0
        self.error: str | None = None
        self.stopped = False
        self.queue: tuple[int, float] | None = None
        self._forward, self._digits, self._images, self._batch = forward, digits, images, batch_size
        self._alive, self._slot = alive, slot
        self._lock = threading.Lock()
        self._by_factor: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._ended = threading.Event()
        # Not a daemon, as the warm-up (ui.warmup): the interpreter waits for it, and it looks between batches
        # whether the server or the interpreter is stopping, so it never dies inside a TensorFlow call.
        self._thread = threading.Thread(target=self._run, name="lab-measure-yours", daemon=False)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop before the next batch of digits (or leave the queue); what is measured so far stays readable."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self._ended.is_set()

    @property
    def psnr_by_factor(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {kind: dict(points) for kind, points in self._by_factor.items()}

    def _should_stop(self) -> bool:
        from ui import warmup

        return self._stop.is_set() or warmup.stopping() or (self._alive is not None and not self._alive())

    def _check(self):
        if self._should_stop():
            raise Stopped

    def _on_wait(self, ahead, seconds):
        self.queue = (int(ahead), float(seconds))
        self._check()

    def _forward_checked(self, batch):
        self._check()
        return self._forward(batch)

    def _run(self):
        from core import data, train

        try:
            with self._slot(on_wait=self._on_wait):
                self.queue = None
                self._check()
                x = data.to_float(self._digits[:self._images])
                for kind, factor, psnr, _ in train.psnr_by_factor(self._forward_checked, x, self._batch,
                                                                 noisy_psnr=False):
                    with self._lock:
                        self._by_factor.setdefault(kind, {})[factor] = psnr
                        self.done += 1
        except Stopped:
            self.stopped = True
        except Exception as exc:  # noqa: BLE001 — the pages show it; the thread must not die silently
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.queue = None
            self._ended.set()


def session_alive(grace: float = ABANDONED_AFTER):
    """A callable, true while the calling script run's session is connected, or was within `grace` seconds (a
    reconnect is not an end); always true where there is no server (AppTest, a notebook). Only the session's id
    is kept, no Streamlit object."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = getattr(ctx, "session_id", None)
    if session is None or not Runtime.exists():
        return lambda: True
    last = [time.monotonic()]

    def alive() -> bool:
        if not Runtime.exists():  # no server now: AppTest between runs (a real server's stop is warmup.stopping)
            return True
        if Runtime.instance().is_active_session(session):
            last[0] = time.monotonic()
        return time.monotonic() - last[0] <= grace

    return alive


def measure(forward, digits) -> PsnrCurve:
    """Start measuring yours (`forward`: a traced call, core.pretrained.compiled_forward) on `digits` (uint8, the
    shipped test digits; the first MEASURE_IMAGES only, which tests set) for this session: ss.yours["curve"]."""
    return PsnrCurve(forward, digits, alive=session_alive(), images=MEASURE_IMAGES).start()

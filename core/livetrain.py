"""Training you can watch: a denoiser learning in a background thread, paused, resumed or stopped at any
batch, its curves and filmstrip read from another thread while it runs. No Streamlit here: a page polls
the attributes, a notebook can too.

    job = LiveTraining(lambda: models.unet_denoiser(), (x_train, x_val), noise="blind", epochs=5)
    job.start()
    ... job.history, job.frames, job.state ...
    job.stop(); job.join()

The model is built inside the thread (Keras keeps its naming and seed state per thread). One `fit` call per
epoch; a callback checks for pause and stop after every batch. After each epoch the first `film`
validation digits are rebuilt (a filmstrip frame) and the whole validation set is scored: binary
cross-entropy (the training loss) and PSNR, with Gaussian noise 0.5 drawn once from VAL_SEED.
"""
from __future__ import annotations

import atexit
import inspect
import threading
import time
import weakref

import numpy as np

from core import data

NOISES = ("gaussian_0.5", "blind")  # the seed's fixed draw, or fresh mixed noise every epoch (core.train's unet)
VAL_SEED = 1234  # = core.train.EVAL_SEED: validation noise drawn as the shipped metrics draw it
STATES = ("new", "queued", "running", "paused", "stopped", "done", "failed")


class _Stopped(Exception):
    """Raised inside the thread to leave the queue when stop() comes first."""


def training_problems(epochs, batch_size, learning_rate, noise="gaussian_0.5") -> list[str]:
    """What is wrong with these training settings, in sentences ([] if nothing): the limits of core.models."""
    from core.models import BATCH_SIZE_RANGE, EPOCHS_RANGE, LEARNING_RATE_RANGE, Problem, _whole

    out = []
    lo, hi = EPOCHS_RANGE
    if not (_whole(epochs) and lo <= epochs <= hi):
        out.append(Problem("epochs", f"Epochs must be a whole number from {lo} to {hi}, not {epochs!r}.",
                           value=epochs, low=lo, high=hi))
    lo, hi = BATCH_SIZE_RANGE
    if not (_whole(batch_size) and lo <= batch_size <= hi):
        out.append(Problem("batch_size", f"The batch size must be a whole number from {lo} to {hi}, not "
                                         f"{batch_size!r}.", value=batch_size, low=lo, high=hi))
    lo, hi = LEARNING_RATE_RANGE
    try:
        ok = lo <= float(learning_rate) <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        out.append(Problem("learning_rate", f"The learning rate must be from {lo:g} to {hi:g}, not "
                                            f"{learning_rate!r}.", value=learning_rate, low=lo, high=hi))
    if noise not in NOISES:
        out.append(Problem("noise", f"The noise must be one of {', '.join(NOISES)}, not {noise!r}.", value=noise))
    return out


def bce(clean, recon) -> np.ndarray:
    """Per-image mean binary cross-entropy, as Keras computes the loss (predictions clipped to [1e-7, 1-1e-7])."""
    p = np.clip(np.asarray(recon, np.float32), 1e-7, 1 - 1e-7)
    y = np.asarray(clean, np.float32)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p)).reshape(len(y), -1).mean(axis=1)


_alive: "weakref.WeakSet[LiveTraining]" = weakref.WeakSet()


@atexit.register
def _stop_at_exit():
    """Stop every training still running when the process ends, and let it leave its batch: TensorFlow
    aborts the whole process when a daemon thread is cut off inside one of its calls."""
    for job in list(_alive):
        job.stop()
    for job in list(_alive):
        job.join(60)


class LiveTraining:
    """A denoiser training in a daemon thread. Read `state`, `history`, `frames`, `batches` at any time.

    build:         zero-argument callable returning an uncompiled Keras model (called in the thread)
    data:          (x_train, x_val), floats (N, 28, 28, 1) in [0, 1]
    noise:         "gaussian_0.5" (drawn once, the seed's way) or "blind" (fresh mixed noise every epoch)
    film:          how many of the first validation digits make the filmstrip
    report_every:  also record the running training loss every this many batches (in `batches`)
    val_images:    score only the first this many validation digits each epoch (None: all of them); on 2
                   cores scoring 5,000 digits costs a quarter of a U-Net epoch
    slot:          optional context-manager factory entered in the thread around training, e.g.
                   ui.jobs.slot; called as slot(on_wait=...) when it takes `on_wait` (ui.jobs.slot does),
                   so a queued job shows `queue` and a stop() leaves the line. While waiting: "queued".
                   A paused job gives its place back (a student who pauses must not hold up the class) and
                   lines up again on resume: "queued" until a place is free, then "running".
    """

    def __init__(self, build, data, noise: str = "gaussian_0.5", epochs: int = 10, batch_size: int = 64,
                 learning_rate: float = 1e-3, film: int = 8, report_every: int | None = None, seed: int = 0,
                 slot=None, val_images: int | None = None, val_batch: int = 1000):
        problems = training_problems(epochs, batch_size, learning_rate, noise)
        if problems:
            raise ValueError(" ".join(problems))
        x_train, x_val = (np.asarray(a, np.float32) for a in data)
        for what, x in (("training", x_train), ("validation", x_val)):
            if x.ndim != 4 or x.shape[1:] != (28, 28, 1) or not len(x):
                raise ValueError(f"The {what} digits must be floats shaped (N, 28, 28, 1), not {x.shape}.")
        if report_every is not None and (not isinstance(report_every, int) or report_every < 1):
            raise ValueError(f"report_every must be a whole number of batches (1 or more) or None, not "
                             f"{report_every!r}.")
        self.noise, self.epochs, self.batch_size = noise, int(epochs), int(batch_size)
        self.learning_rate, self.report_every, self.seed, self.slot = float(learning_rate), report_every, seed, slot
        self.val_batch = val_batch
        self.steps_per_epoch = -(-len(x_train) // self.batch_size)
        if val_images is not None:
            x_val = x_val[:max(1, int(val_images))]
        self.x_val_noisy = val_noise(x_val)
        self.build, self.x_train, self.x_val = build, x_train, x_val
        film = max(1, min(int(film), len(x_val)))
        self.film_clean, self.film_noisy = x_val[:film].copy(), self.x_val_noisy[:film].copy()

        self._lock = threading.Lock()
        self._history: list[dict] = []
        self._frames: list[np.ndarray] = []
        self._batches: list[dict] = []
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._place = None  # the entered slot while this job holds a place
        self._thread = threading.Thread(target=self._run, name="live-training", daemon=True)
        self.state = "new"
        self.error: str | None = None
        self.model = None
        self.params: int | None = None
        self.started_at: float | None = None  # time.time() of start()
        self.running_at: float | None = None  # when the slot was free and the model began to build
        self.first_frame_at: float | None = None
        self.queue: tuple[int, float] | None = None  # (jobs ahead, seconds waited) while queued
        self.epoch = 0  # epochs finished
        self.batch = 0  # batches finished in the current epoch

    # ─── control, from any thread ──────────────────────────────────────────────────────────────────
    def start(self):
        if self.state != "new":
            raise RuntimeError(f"this training was started already (it is {self.state})")
        self.started_at = time.time()
        self.state = "queued" if self.slot is not None else "running"
        _alive.add(self)
        self._thread.start()
        return self

    def pause(self):
        """Pause after the current batch (a queued job pauses as soon as it gets its place)."""
        self._running.clear()
        self._move("running", "paused")

    def resume(self):
        self._move("paused", "running")
        self._running.set()

    def _move(self, old, new):
        """state old → new, only if it is still old (the thread and the page both move it)."""
        with self._lock:
            if self.state == old:
                self.state = new

    def stop(self):
        """Stop at the next batch end (or leave the queue). The model keeps the weights it has."""
        self._stop.set()
        self._running.set()  # a paused job wakes up to stop

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.state in ("stopped", "done", "failed")

    # ─── reads, from any thread (copies taken under the lock) ──────────────────────────────────────
    @property
    def history(self) -> list[dict]:
        """One dict per finished epoch: epoch, loss, val_loss, val_psnr, seconds (since start()), epoch_seconds."""
        with self._lock:
            return [dict(h) for h in self._history]

    @property
    def frames(self) -> list[np.ndarray]:
        """frames[i]: the film digits (film, 28, 28, 1) as the model rebuilt them after epoch i + 1."""
        with self._lock:
            return list(self._frames)

    @property
    def batches(self) -> list[dict]:
        """With report_every: epoch (fractional, e.g. 1.25), step (batches so far), loss (running mean of the
        epoch so far), seconds since start()."""
        with self._lock:
            return [dict(b) for b in self._batches]

    @property
    def seconds(self) -> float:
        return 0.0 if self.started_at is None else time.time() - self.started_at

    # ─── the thread ────────────────────────────────────────────────────────────────────────────────
    def _on_wait(self, ahead, seconds):
        self.queue = (int(ahead), float(seconds))
        if self._stop.is_set():
            raise _Stopped

    def _run(self):
        try:
            self._take_place()
            try:
                self._train()
            finally:
                self._give_place_back()
            end = "stopped" if self._stop.is_set() else "done"
        except _Stopped:
            end = "stopped"
        except Exception as exc:  # the page shows it; the thread must not die silently
            self.error = f"{type(exc).__name__}: {exc}"
            end = "failed"
        with self._lock:
            self.state = end

    def _take_place(self):
        """Wait in line for a place (state "queued"); a stop() meanwhile raises _Stopped."""
        if self.slot is None:
            return
        try:
            takes_on_wait = "on_wait" in inspect.signature(self.slot).parameters
        except (TypeError, ValueError):
            takes_on_wait = False
        place = self.slot(on_wait=self._on_wait) if takes_on_wait else self.slot()
        place.__enter__()
        self._place, self.queue = place, None
        if self._stop.is_set():
            self._give_place_back()
            raise _Stopped

    def _give_place_back(self):
        place, self._place = self._place, None
        if place is not None:
            place.__exit__(None, None, None)

    def _wait_while_paused(self):
        """Between batches: while paused, hold no place; on resume, line up again."""
        if self._running.is_set() or self._stop.is_set():
            return
        self._move("running", "paused")
        self._give_place_back()
        self._running.wait()
        if self._stop.is_set():
            raise _Stopped
        if self.slot is not None:
            with self._lock:  # resume() has already said "running": in line first
                self.state = "queued"
            self._take_place()
        with self._lock:
            self.state = "running" if self._running.is_set() else "paused"

    def _train(self):
        import keras

        self.running_at = time.time()
        self._move("queued", "running" if self._running.is_set() else "paused")
        keras.utils.set_random_seed(self.seed)  # as core.train does; only one job runs at a time (ui.jobs)
        model = self.build()
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        self.model, self.params = model, int(model.count_params())
        forward = _forward(model)
        rng = np.random.default_rng(self.seed)
        if self.noise == "gaussian_0.5":
            fixed = data.add_noise(self.x_train, 0.5, "gaussian", seed=rng)
        control = _control(self, keras)
        for epoch in range(self.epochs):
            if self._stop.is_set():
                return
            t0 = time.time()
            noisy = fixed if self.noise == "gaussian_0.5" else data.add_mixed_noise(self.x_train, rng)
            control.epoch = epoch
            fit = model.fit(noisy, self.x_train, batch_size=self.batch_size, epochs=1, shuffle=True, verbose=0,
                            callbacks=[control])
            if control.stopped:  # stopped inside the epoch: no frame for half an epoch
                return
            film = _clip01(forward(self.film_noisy))
            with self._lock:
                self._frames.append(film)
                if self.first_frame_at is None:
                    self.first_frame_at = time.time()
            recon = np.concatenate([_clip01(forward(self.x_val_noisy[i:i + self.val_batch]))
                                    for i in range(0, len(self.x_val_noisy), self.val_batch)])
            from core import metrics

            entry = {"epoch": epoch + 1, "loss": float(fit.history["loss"][-1]),
                     "val_loss": float(bce(self.x_val, recon).mean()),
                     "val_psnr": float(metrics.psnr(self.x_val, recon).mean()),
                     "seconds": time.time() - self.started_at, "epoch_seconds": time.time() - t0}
            with self._lock:
                self._history.append(entry)
                self.epoch, self.batch = epoch + 1, 0


def val_noise(x_val):
    """The validation digits' noise: Gaussian 0.5, one draw from VAL_SEED (the same for every job)."""
    return data.add_noise(x_val, 0.5, "gaussian", seed=VAL_SEED)


def _clip01(x):
    return np.clip(np.asarray(x, np.float32), 0.0, 1.0)


def _forward(model):
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True, autograph=False,
                     input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
    return lambda x: fn(tf.constant(np.asarray(x, np.float32))).numpy()


def _control(job: LiveTraining, keras):
    """The callback that lets another thread pause and stop `fit` between batches and records batch losses."""

    class Control(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch, self.stopped = 0, False

        def on_train_batch_end(self, batch, logs=None):
            job.batch = batch + 1
            every = job.report_every
            if every and (batch + 1) % every == 0 and logs and "loss" in logs:
                entry = {"epoch": self.epoch + (batch + 1) / job.steps_per_epoch,
                         "step": self.epoch * job.steps_per_epoch + batch + 1,
                         "loss": float(logs["loss"]), "seconds": time.time() - job.started_at}
                with job._lock:
                    job._batches.append(entry)
            try:
                job._wait_while_paused()
            except _Stopped:
                pass  # stopped while paused or in line again: end fit below, keeping the weights
            if job._stop.is_set():
                self.stopped = True
                self.model.stop_training = True

    return Control()

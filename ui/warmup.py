"""Warm the process before the first click: no visitor should wait for TensorFlow to import.

The server's start (`lifespan`, the `st.App` hook app.py hands to `streamlit run`) starts one background thread;
a page run starts it too where there is no server (AppTest). It imports TensorFlow, then loads and traces the
models each page opens with and fills those pages' caches with their default views, page by page in the order a
class usually visits them. Home's own run never imports TensorFlow; a page opened while its part is still
warming waits under a spinner (ui.page), never a frozen screen. When all is warm, `gc.freeze()` moves the
long-lived objects (TensorFlow's and the models', millions of them) out of the garbage collector's sight, so
Python's own collections stay cheap afterwards.

Stopping, at any moment: the thread is not a daemon, and it looks between steps whether the server is stopping
(`stop`, from the lifespan's shutdown) or the interpreter is (its main thread has ended). So it always ends
before anything it uses is torn down: the interpreter joins non-daemon threads before it runs the exit handlers
of TensorFlow, Keras and the rest, whatever order they were registered in; a thread cut off inside one of
TensorFlow's calls would abort the process.
"""
from __future__ import annotations

import asyncio
# Imported here, on the main thread, before TensorFlow imports it on the warm-up's: importing it registers an
# exit hook, which a thread still importing TensorFlow while the interpreter stops may no longer do
# ("RuntimeError: can't register atexit after shutdown", then a segmentation fault).
import concurrent.futures.thread  # noqa: F401
import contextlib
import gc
import logging
import os
import threading

import numpy as np

_LOG = logging.getLogger(__name__)
ORDER = ("imports", "denoising", "latent_space", "your_digit", "anomaly", "clustering", "resnet")
_ready = {part: threading.Event() for part in ORDER}
_import_lock = threading.Lock()
_start_lock = threading.Lock()
_thread: threading.Thread | None = None
_stopping = threading.Event()
# LAB_WARMUP=0: no warm-up; each page loads what it needs on its first visit. For a server that shows one or two
# pages (a test, a page under development): the warm-up would spend ~18 s of CPU on models nobody opens.
ENABLED = os.environ.get("LAB_WARMUP", "1") != "0"


def import_heavy() -> None:
    """TensorFlow and Keras, imported once under a lock: several first visits importing them at the same
    time on different threads deadlock TensorFlow's import for good (found by bench/load.py)."""
    with _import_lock:
        import keras  # noqa: F401
        import sklearn.metrics  # noqa: F401
        import tensorflow  # noqa: F401

        from core import anomaly, arch, diagrams, latent, metrics, models  # noqa: F401
    _ready["imports"].set()


def _denoising() -> None:
    from core import pretrained
    from ui import models

    x, _ = models.test_digits()
    # The page's opening view: 10 random digits (digit seed 0), Gaussian 0.5, noise seed 0, seed AE + best.
    idx = tuple(int(i) for i in np.sort(np.random.default_rng(0).choice(len(x), size=10, replace=False)))
    models.original_row(idx)
    models.noisy_row(idx, 0.5, "gaussian", 0)
    manifest = models.manifest()
    for name in pretrained.denoisers(manifest):  # all of them are traced; the opening two also cached
        models.forward(name)
        if name in ("seed_ae", pretrained.best_denoiser(manifest)):
            models.denoised_row(name, idx, 0.5, "gaussian", 0)


def _latent_space() -> None:
    from ui import models

    sha = models.sha("vae")
    if not sha:
        return
    models.vae_map(sha)
    models.thumbnails()
    models.decoded(0.0, 0.0)
    models.located(0.0, 0.0, 4.0)  # the page's Z_LIMIT
    models.manifold_png(sha, 15, 2.0)
    models.interpolation_png(sha, 3, 2, 10)
    models.prior_png(sha, models.PRIOR_SAMPLES, 0)  # the page's opening row from the prior
    models.close_up(0)  # and its opening digit's ELBO split and σ close-up


def _your_digit() -> None:
    from core import anomaly, pretrained
    from ui import models

    one = np.zeros((1, 28, 28, 1), np.float32)
    for name in ("classifier", *pretrained.denoisers(models.manifest())):
        models.forward(name)(one)  # traced for one digit: the page scores one at a time
    _, y = models.test_digits()
    label = int(y[models.DIGIT_SAMPLE[0]])  # the digit the page opens on
    name = anomaly.shipped_model([label], "geometric")
    if models.sha(name):
        models.typical_scores(name, label, "geometric")
        anomaly.score(models.load(name), one, "geometric")


def _anomaly() -> None:
    from core import anomaly
    from ui import models

    name = anomaly.shipped_model([0], "geometric")  # the page opens on normal digit 0, geometric score
    if models.sha(name):
        models.shipped_scores(name, "geometric")


def stopping() -> bool:
    """The server is stopping, or the interpreter is (its main thread has ended)."""
    return _stopping.is_set() or not threading.main_thread().is_alive()


def _clustering() -> None:
    from core import clustering, i18n
    from ui import models

    if models.cluster_fits() is None:
        return
    rep, method, k = clustering.DEFAULT  # the page's opening view, in both languages
    weights = tuple(models.sha(name) for name in clustering.MADE_FROM)
    models.cluster_rows(rep, method, k, weights)
    for lang in i18n.LANGUAGES:
        t = i18n.translator(lang)
        models.cluster_map_spec(rep, method, k, weights, t("cl.group_axis"), t("cl.noise_name"))


def _resnet() -> None:
    from core import models as builders
    from ui import models

    d = builders.RESNET_SEED_DEFAULTS  # the page opens on the seed's ResNet, its block diagram
    settings = (("label_num", d["label_num"]), ("num_filters", d["num_filters"]), ("num_blocks", d["num_blocks"]),
                ("num_sub_blocks", d["num_sub_blocks"]), ("input_shape", tuple(d["input_shape"])), ("residual", True))
    models.resnet_facts(settings)
    models.resnet_dot(settings, "block")


def _run(delay: float) -> None:
    try:
        if _stopping.wait(delay) or stopping():
            return
        import_heavy()
        for part, fill in (("denoising", _denoising), ("latent_space", _latent_space),
                           ("your_digit", _your_digit), ("anomaly", _anomaly), ("clustering", _clustering),
                           ("resnet", _resnet)):
            for attempt in (1, 2):
                if stopping():
                    return
                try:
                    fill()
                    break
                except Exception:  # a missing or damaged model: its page says so itself, in words
                    _LOG.warning("warm-up of %s failed (attempt %d)", part, attempt, exc_info=True)
            _ready[part].set()
        gc.collect()
        gc.freeze()
    finally:
        for event in _ready.values():  # never leave a page waiting on a warm-up that died
            event.set()


def start(delay: float = 0.0) -> bool:
    """Start the warm-up once per process, after `delay` seconds; True when this call started it."""
    global _thread
    with _start_lock:
        if _thread is not None or _stopping.is_set():
            return False
        if not ENABLED:  # nothing to wait for: every page fills its own caches
            for event in _ready.values():
                event.set()
            return False
        from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

        # Not a daemon: the interpreter waits for it (see above), for one step at most.
        _thread = threading.Thread(target=_run, args=(delay,), name="lab-warmup", daemon=False)
        ctx = get_script_run_ctx()
        if ctx is not None:  # the caches it fills are the pages' own; started by a page run, it runs in its context
            add_script_run_ctx(_thread, ctx)
        _thread.start()
        return True


def stop(timeout: float = 120) -> bool:
    """Ask the warm-up to stop after its current step, and wait for it; True when it is not running."""
    _stopping.set()
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
    return thread is None or not thread.is_alive()


@contextlib.asynccontextmanager
async def lifespan(app):
    """The server's start and stop (app.py: `st.App("app.py", lifespan=lifespan)`): warm at once, before anyone
    visits; on the way out, stop the warm-up before the server and the interpreter tear down what it uses."""
    start()
    server = _signal_owner()
    try:
        yield None
    finally:
        await asyncio.to_thread(stop)
        # uvicorn re-raises a stopping signal once it has shut down gracefully, and `streamlit run` turns that
        # into "Aborted!" and exit status 1 (SIGINT) or a death by SIGTERM. The stop is complete by now: exit 0.
        captured = getattr(server, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def _signal_owner():
    """The uvicorn server whose handler holds SIGINT while the lifespan runs (None elsewhere)."""
    import signal

    try:
        return getattr(signal.getsignal(signal.SIGINT), "__self__", None)
    except ValueError:  # not the main thread
        return None


def ready(part: str) -> bool:
    return _ready.get(part, _ready["imports"]).is_set()


def wait(part: str, timeout: float = 300) -> bool:
    """Block until `part` (a page's url path; other pages wait for the imports only) is warm."""
    return _ready.get(part, _ready["imports"]).wait(timeout)

"""Serving a class: Streamlit's per-run cleanup, the warm-up, the caches and the job cap, as behaviour."""
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest

from ui import jobs, serving

ROOT = Path(__file__).resolve().parent.parent


def fake_keras(monkeypatch):
    calls = []
    keras = types.ModuleType("keras")
    keras.backend = types.SimpleNamespace(clear_session=lambda *a, **k: calls.append("clear_session"))
    monkeypatch.setitem(sys.modules, "keras", keras)
    return calls


def test_streamlit_cleanup_still_calls_keras_and_ours_does_not(monkeypatch):
    """If Streamlit stops clearing the Keras session after each run, our replacement can go: this fails then."""
    from streamlit.runtime.scriptrunner import script_runner

    calls = fake_keras(monkeypatch)
    serving.STREAMLIT_CLEANUP()
    assert calls == ["clear_session"]
    calls.clear()
    closed = []
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", types.SimpleNamespace(close=closed.append))
    serving.install()
    assert script_runner._clean_problem_modules is serving._clean_problem_modules
    script_runner._clean_problem_modules()
    assert calls == [] and closed == ["all"]  # figures are still closed


def test_a_page_run_clears_no_keras_session(monkeypatch):
    import keras

    from tests.apptest import open_page

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    at = open_page("denoising")
    at.slider(key="noise_factor").set_value(0.8).run()
    assert not at.exception
    assert calls == []


def test_nodelay_reaches_connections_accepted_later():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert serving.set_nodelay() >= 1
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted, client:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


WARMUP_PROBE = r"""
import sys, threading
from importlib.abc import MetaPathFinder
importers = {}
class Spy(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            importers.setdefault(threading.current_thread().name, True)
        return None
sys.meta_path.insert(0, Spy())
from core import pretrained
loads = []
real_load = pretrained.load
pretrained.load = lambda *a, **k: loads.append(a[0]) or real_load(*a, **k)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=120).run()
assert not at.exception, at.exception
home_thread_imported = "tensorflow" in sys.modules and set(importers) != {"lab-warmup"}
from ui import warmup
assert warmup.wait("anomaly", 300)
print("IMPORTERS", sorted(importers))
print("HOME", home_thread_imported)
before = len(loads)
for slug in ("denoising", "latent_space", "your_digit"):
    at.switch_page(f"pages/{slug}.py").run()
    assert not at.exception, (slug, at.exception)
print("LOADS_AFTER", len(loads) - before, "BEFORE", before)
"""


def test_warmup_imports_tensorflow_off_home_and_pages_load_no_model_again():
    out = subprocess.run([sys.executable, "-c", WARMUP_PROBE], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.split(" ", 1)[0].isupper())
    assert lines["IMPORTERS"] == "['lab-warmup']"  # only the warm-up thread imported TensorFlow
    assert lines["HOME"] == "False"
    after, before = lines["LOADS_AFTER"].split(" BEFORE ")
    assert int(before) > 0 and int(after) == 0  # the warm-up loaded the models; the pages found them warm


def test_lab_warmup_0_skips_the_warmup_and_no_page_waits_for_it():
    import os

    code = ("import sys; from ui import warmup; assert warmup.start() is False;"
            "assert all(warmup.wait(p, 0) for p in warmup.ORDER); assert 'tensorflow' not in sys.modules")
    for value, started in (("0", False), ("1", True)):
        run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, LAB_WARMUP=value, TF_CPP_MIN_LOG_LEVEL="2"))
        assert (run.returncode == 0) is not started, run.stderr[-2000:]  # as usual, start() starts it


def test_denoised_rows_recompute_when_any_input_changes(monkeypatch):
    from ui import models

    calls = []

    def fake_forward(name):
        def run(x):
            calls.append(name)
            return np.asarray(x) * 0.5
        return run

    monkeypatch.setattr(models, "forward", fake_forward)
    shas = {"seed_ae": "a" * 64}
    monkeypatch.setattr(models, "sha", lambda name: shas[name])
    idx = (0, 1, 2)
    first = models.denoised_row("seed_ae", idx, 0.5, "gaussian", 0)
    assert models.denoised_row("seed_ae", idx, 0.5, "gaussian", 0) == first and len(calls) == 1  # a hit
    changes = [((0, 1, 3), 0.5, "gaussian", 0), (idx, 0.55, "gaussian", 0), (idx, 0.5, "salt_and_pepper", 0),
               (idx, 0.5, "gaussian", 1)]
    for n, args in enumerate(changes, 2):
        assert models.denoised_row("seed_ae", *args)["png"] != first["png"]
        assert len(calls) == n
    shas["seed_ae"] = "b" * 64  # new weights: new pictures, even for the same settings
    models.denoised_row("seed_ae", idx, 0.5, "gaussian", 0)
    assert len(calls) == len(changes) + 2


def test_file_hash_is_reused_until_the_file_changes(tmp_path, monkeypatch):
    from core import pretrained

    path = tmp_path / "w.h5"
    path.write_bytes(b"one")
    hashed = []
    real = pretrained.sha256
    monkeypatch.setattr(pretrained, "sha256", lambda p: hashed.append(p) or real(p))
    first = pretrained.file_sha256(path)
    assert pretrained.file_sha256(path) == first and len(hashed) == 1
    path.write_bytes(b"two, longer")
    assert pretrained.file_sha256(path) != first and len(hashed) == 2


def test_a_job_waits_for_its_turn_and_says_how_many_are_ahead(monkeypatch):
    monkeypatch.setattr(jobs, "LIMIT", 1)
    order, heard = [], []
    first_in = threading.Event()

    def first():
        with jobs.slot():
            first_in.set()
            time.sleep(0.6)
            order.append("first")

    runner = threading.Thread(target=first)
    runner.start()
    first_in.wait(5)
    with jobs.slot(on_wait=lambda ahead, waited: heard.append(ahead), poll=0.1):
        order.append("second")
    runner.join()
    assert order == ["first", "second"]
    assert heard and set(heard) == {1}
    assert jobs.running() == 0


def test_a_job_stopped_while_waiting_gives_its_place_back(monkeypatch):
    monkeypatch.setattr(jobs, "LIMIT", 1)

    class Stop(Exception):
        pass

    def impatient(ahead, waited):
        raise Stop  # what a click elsewhere does to a waiting script run

    with jobs.slot():
        with pytest.raises(Stop):
            with jobs.slot(on_wait=impatient):
                pass
    with jobs.slot(on_wait=impatient):  # nobody is left ahead: it runs at once
        assert jobs.running() == 1


def test_the_resnet_race_queues_behind_a_running_job(monkeypatch):
    """The page waits in line while another job runs, tells the person so, then races."""
    from core import arch
    from tests.apptest import open_page

    heard = []
    real_slot = jobs.slot

    def spying_slot(on_wait=None, poll=1.0):
        def wait(ahead, seconds):
            heard.append(ahead)
            on_wait(ahead, seconds)  # the page's own message
        return real_slot(on_wait=wait, poll=0.2)

    monkeypatch.setattr(jobs, "slot", spying_slot)
    monkeypatch.setattr(jobs, "LIMIT", 1)
    monkeypatch.setattr(arch, "train_race", lambda depth, x, y, steps, on_step: {
        "residual": [1.0] * 20, "plain": [2.0] * 20, "steps": steps, "seconds": 0.1})
    at = open_page("resnet")
    at.slider(key="rn_steps").set_value(50).run()
    busy = real_slot()
    busy.__enter__()
    threading.Timer(1.5, busy.__exit__, (None, None, None)).start()
    at.button(key="rn_race_run").click().run()
    assert not at.exception
    assert heard and set(heard) == {1}
    assert any("residual 1.000, plain 2.000" in c.value for c in at.caption)  # then it raced

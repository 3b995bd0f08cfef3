"""The server warms up as it starts, and any stop, at any moment of the warm-up, exits cleanly."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import browser

ROOT = Path(__file__).resolve().parent.parent

# AppTest of app.py, a switch to the training bench, then a plain exit while the warm-up is still building models.
# Exit handlers registered after ours (TensorFlow's, Keras's) used to run first and tear down what the warm-up
# was using: "Only input tensors may be passed as positional arguments", three runs out of three.
EXIT_MID_WARMUP = """
import logging, sys
from streamlit.testing.v1 import AppTest
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
at.switch_page("pages/training.py").run()
print("exceptions:", len(at.exception), flush=True)
"""


def test_a_process_that_exits_mid_warmup_lets_the_warmup_finish_its_step_cleanly():
    out = subprocess.run([sys.executable, "-c", EXIT_MID_WARMUP, str(ROOT / "app.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "exceptions: 0" in out.stdout
    assert "warm-up of" not in out.stderr, out.stderr[-3000:]  # no part failed
    assert "Traceback" not in out.stderr, out.stderr[-3000:]


def tensorflow_loaded(pid: int) -> bool:
    try:
        return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_the_server_warms_up_before_anyone_visits():
    """With nobody connected, TensorFlow's library is loaded into the server: the warm-up began with the server,
    not with the first visitor (then 30 students arriving at once waited up to 20 s)."""
    with browser.serve_app_proc() as (url, t0, proc):
        deadline = time.perf_counter() + 120
        while not tensorflow_loaded(proc.pid) and time.perf_counter() < deadline:
            time.sleep(0.5)
        assert tensorflow_loaded(proc.pid)


def stop_after(sig, seconds: float):
    port = browser._free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    time.sleep(seconds)
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"the server did not stop within 180 s of {sig!r}:\n{out[-3000:]}")
    return proc.returncode, out


@pytest.mark.parametrize("sig, seconds", [(signal.SIGINT, 3), (signal.SIGTERM, 8)], ids=["ctrl-c-3s", "sigterm-8s"])
def test_a_stop_during_the_warmup_exits_cleanly(sig, seconds):
    """Ctrl-C while the warm-up imported TensorFlow: "can't register atexit after shutdown", then a segmentation
    fault (rc 139); SIGTERM (docker stop) left a traceback."""
    rc, out = stop_after(sig, seconds)
    assert rc == 0, out[-3000:]
    assert "Traceback" not in out and "Segmentation" not in out and "Aborted" not in out, out[-3000:]

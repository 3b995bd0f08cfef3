"""How this process serves many sessions: what Streamlit does after every run, and how fast replies leave.

Measured on 2 cores (shared/notes/rerun-overhead.md, bench/load.py): with TensorFlow loaded, Streamlit's
per-run `keras.backend.clear_session()` and `gc.collect(2)` cost a few hundred milliseconds of every
rerun, on the thread every session shares. `runner.postScriptGC = false` (.streamlit/config.toml) turns
the second off; Streamlit has no option for the first, so `install()` replaces the one function that
calls it. Why that is safe is written in DESIGN.md ("Serving a class").
"""
from __future__ import annotations

import os
import socket
import sys
import threading

from streamlit.runtime.scriptrunner import script_runner

STREAMLIT_CLEANUP = script_runner._clean_problem_modules  # kept for the test that says when to drop ours
_lock = threading.Lock()
_installed = False


def _clean_problem_modules() -> None:
    """Streamlit's post-run cleanup minus `keras.backend.clear_session()`: pyplot figures are still closed.

    Keras's global state is thread-local and every rerun runs on a new script thread, so a run leaves
    nothing behind for the next; our models are built once per process (ui.models), never per run.
    `clear_session` would instead reset the state of *every* thread, mid-build, for other sessions, and
    walk the whole heap with a full collection each time."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:  # noqa: BLE001 — Streamlit's own cleanup never lets this fail a run either
            pass


def set_nodelay() -> int:
    """TCP_NODELAY on every TCP socket of this process, the listening one included (Linux copies the
    option to each connection it accepts). Streamlit binds its socket with protocol 0, so asyncio never
    sets it, and every small reply waits ~40 ms on Nagle's algorithm plus the client's delayed ACK.
    Returns how many sockets were set; 0 where /proc is not there."""
    done = 0
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    for name in fds:
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        with sock:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    done += 1
                except OSError:
                    pass
    return done


def install() -> bool:
    """Once per process, from app.py: replace the post-run cleanup and set TCP_NODELAY. True the first time."""
    global _installed
    with _lock:
        if _installed:
            return False
        script_runner._clean_problem_modules = _clean_problem_modules  # looked up by name after each run
        set_nodelay()
        _installed = True
        return True

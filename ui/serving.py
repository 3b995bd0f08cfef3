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

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner import script_runner

STREAMLIT_CLEANUP = script_runner._clean_problem_modules  # kept for the test that says when to drop ours
STREAMLIT_ADD_FILE = MemoryUploadedFileManager.add_file
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


# What one session may hold of uploads (a file uploader and the camera each keep their newest): the page reads
# one picture at a time, so older ones are dropped, oldest first, rather than kept for a tab that sends many.
MAX_SESSION_UPLOADS = 4
MAX_SESSION_UPLOAD_BYTES = 12 * 2**20


def _capped_add_file(self, session_id, file) -> None:
    """MemoryUploadedFileManager.add_file, then the session's oldest files dropped beyond the caps above."""
    STREAMLIT_ADD_FILE(self, session_id, file)
    with self._lock:
        held = self.file_storage.get(session_id) or {}
        while len(held) > 1 and (len(held) > MAX_SESSION_UPLOADS or
                                 sum(len(f.data) for f in held.values()) > MAX_SESSION_UPLOAD_BYTES):
            oldest = next(iter(held))  # dicts keep insertion order: the first is the oldest
            self._total_bytes -= len(held.pop(oldest).data)
            self._file_count -= 1


def install() -> bool:
    """Once per process, from app.py: replace the post-run cleanup, cap each session's uploads and set
    TCP_NODELAY. True the first time."""
    global _installed
    with _lock:
        if _installed:
            return False
        script_runner._clean_problem_modules = _clean_problem_modules  # looked up by name after each run
        MemoryUploadedFileManager.add_file = _capped_add_file
        set_nodelay()
        _installed = True
        return True


# ─── What every HTTP reply of this process carries, and what it never answers ──────────────────────────
# docs/serving.md says why each. HAProxy sets the same headers (deploy/haproxy.cfg) for replicas behind it;
# these hold for a server run on its own.
HEADERS = ((b"x-frame-options", b"DENY"),                        # no other site frames the lab (clickjacking)
           (b"content-security-policy", b"frame-ancestors 'none'"),
           (b"x-content-type-options", b"nosniff"),              # an upload is never run as a script or page
           (b"referrer-policy", b"no-referrer"))                 # a link's settings never leak to other sites
# Streamlit's metrics name every cache and session count; only the machine itself may read them.
PRIVATE_PATHS = ("/_stcore/metrics",)


class Guard:
    """Pure ASGI middleware: the headers above on every HTTP response, and 404 for PRIVATE_PATHS unless asked from
    this machine. Websockets pass untouched (a header on every message would cost the sliders)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("path", "").rstrip("/") in PRIVATE_PATHS and not _from_this_machine(scope):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS]})
            return await send({"type": "http.response.body", "body": b"Not found"})

        async def with_headers(message):
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in HEADERS if h[0] not in have)]}
            await send(message)

        return await self.app(scope, receive, with_headers)


def _from_this_machine(scope) -> bool:
    """Asked from a loopback address and not forwarded (HAProxy, on the same machine, adds X-Forwarded-For)."""
    import ipaddress

    try:
        address = ipaddress.ip_address((scope.get("client") or ("",))[0])
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # '::ffff:127.0.0.1' from a dual-stack socket
    return address.is_loopback and not any(name.lower() == b"x-forwarded-for" for name, _ in scope.get("headers", []))


def _middleware():
    from starlette.middleware import Middleware

    return [Middleware(Guard)]


MIDDLEWARE = _middleware()


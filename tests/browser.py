"""Run the real app and drive Debian's Chromium with Playwright. Used by the browser test and bench/."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app_proc(timeout: float = 90, keep_log: bool = False, warm: bool = True):
    """`streamlit run app.py` on a free loopback port; yields (url, t0, proc). Without `warm`, the server skips its
    warm-up (LAB_WARMUP=0): each page loads its models on its first visit.

    The server's output goes to a log file, never to a pipe: nobody reads a pipe while the server runs, and
    a full one (64 KiB of warnings under load) would block the server's writes. `proc.log_path` names the
    file; it is deleted when the server stops unless keep_log (a benchmark reads it for tracebacks)."""
    port = _free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", LAB_WARMUP="1" if warm else "0")
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()  # the child holds its own descriptor
    proc.log_path = log.name
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > timeout:
                tail = Path(log.name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"streamlit did not start (log {log.name}):\n{tail}")
            time.sleep(0.2)
        yield url, t0, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not keep_log:
            Path(log.name).unlink(missing_ok=True)


@contextlib.contextmanager
def serve_app(timeout: float = 90, warm: bool = False):
    """`streamlit run app.py` on a free loopback port; yields (url, t0): t0 is time.perf_counter() at the start.
    A browser test opens a page or two: by default the server does not warm the others (~18 s of CPU each time,
    on the 2 cores the test and its browser share); the warm-up has tests of its own (test_serving, test_stopping)."""
    with serve_app_proc(timeout, warm=warm) as (url, t0, _):
        yield url, t0


@contextlib.contextmanager
def chromium_page(width=1400, height=1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def image_sources(page) -> list[str]:
    return page.eval_on_selector_all('[data-testid="stImage"] img', "els => els.map(e => e.src)")


def wait_for_images(page, count: int, timeout_ms: int = 120_000):
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=\"stImage\"] img').length >= {count}", timeout=timeout_ms)


def wait_until_idle(page, timeout_ms: int = 120_000):
    """Streamlit shows a 'running' status widget while a rerun is under way."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)

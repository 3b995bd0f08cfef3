"""Serving it anywhere: the Dockerfile (linted, its health check run), compose.yaml, and deploy/serve.sh's
replicas behind HAProxy, with sticky sessions and a replica killed mid-run. No image can be built here (no
container daemon), so the container's parts are checked one by one. Needs Debian's haproxy (.ci/run)."""
import asyncio
import fnmatch
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from bench import load

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instruction(name: str, text: str = DOCKERFILE) -> list[str]:
    """Every `NAME …` instruction of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [name]]


def test_dockerfile_is_hadolint_clean():
    out = subprocess.run(["hadolint", "deploy/Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = DOCKERFILE.splitlines()
    for k, line in enumerate(lines):
        if "hadolint ignore" in line:  # a silenced rule says why, in the comment just above
            assert k > 0 and lines[k - 1].startswith("#") and "hadolint" not in lines[k - 1], line


def test_dockerfile_runs_the_app_headless_as_a_user_without_build_tools():
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]
    assert len(stages) == 2 and " AS build" in stages[0].splitlines()[0]
    final = "FROM " + stages[1]
    assert "requirements.txt" in stages[0] and "--only-binary=:all:" in stages[0]  # wheels: no compiler anywhere
    assert "COPY --from=build /venv /venv" in final
    assert not re.search(r"\b(gcc|g\+\+|build-essential|make|python3-dev|cmake)\b", final)
    user = _instruction("USER", final)
    assert user and user[-1].strip() not in ("0", "root") and user[-1].strip().isdigit()
    cmd = json.loads(_instruction("CMD", final)[-1])
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    assert {"--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"} <= set(cmd)
    assert _instruction("EXPOSE", final) == ["8501"]


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.removeprefix("**/"))
               for pat in patterns for p in prefixes)


def test_dockerignore_keeps_the_app_and_only_the_app():
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)  # the simple matcher below knows no exceptions
    files = _tracked()
    kept = {f for f in files if not _ignored(f, patterns)}
    for needed in ("app.py", "requirements.txt", ".streamlit/config.toml", "pretrained/manifest.json",
                   "pretrained/mnist_test.npz"):
        assert needed in kept, needed
    for folder in ("pages/", "core/", "ui/", "pretrained/"):
        assert {f for f in files if f.startswith(folder)} <= kept, folder
    assert not {f for f in kept if f.split("/")[0] in ("tests", "docs", "bench", "deploy", ".ci")}
    assert _ignored(".git/HEAD", patterns) and _ignored("core/__pycache__/x.pyc", patterns)


def test_haproxy_config_is_valid_for_serve_sh_and_for_compose():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    proxy = compose["services"]["proxy"]
    assert any(v.startswith("./haproxy.cfg:") for v in proxy["volumes"])  # beside compose.yaml
    replicas = sorted(s for s in compose["services"] if s != "proxy")
    assert replicas == [f"lab{k}" for k in range(1, len(replicas) + 1)] and len(replicas) >= 2
    assert proxy["environment"] == {f"LAB{k}": f"lab{k}:8501" for k in range(1, len(replicas) + 1)}
    assert all(compose["services"][r]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
               for r in replicas)
    assert set(proxy["depends_on"]) == set(replicas)
    for env in ({}, {"LAB2": "127.0.0.1:8602"}, {k: str(v) for k, v in proxy["environment"].items()}):
        out = subprocess.run(["haproxy", "-c", "-f", "deploy/haproxy.cfg"], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, **env})
        assert out.returncode == 0, (env, out.stdout + out.stderr)


def test_serve_sh_names_its_limit():
    out = subprocess.run(["bash", "deploy/serve.sh", "9"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "1 to 8" in out.stderr


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    """deploy/serve.sh 2 on free ports; yields (proxy url, run folder, replica ports, stats url)."""
    run = tmp_path_factory.mktemp("serve")
    port, stats, first = _free_port(), _free_port(), _free_port()
    while _free_port() == first + 1:  # the second replica takes first + 1
        first = _free_port()
    env = {**os.environ, "LAB_PORT": str(port), "LAB_REPLICA_PORT": str(first), "LAB_RUN_DIR": str(run),
           "LAB_STATS_BIND": f"127.0.0.1:{stats}", "TF_CPP_MIN_LOG_LEVEL": "2"}
    # Ctrl-C as a terminal delivers it: a suite started in the background (`nohup pytest &`) runs with SIGINT
    # ignored, a child bash inherits that and cannot trap it (bash's rule), so serve.sh would never stop.
    # Its own session, so that whatever happens nothing it started outlives the test (killpg below).
    proc = subprocess.Popen(["bash", "deploy/serve.sh", "2"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url, stats_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{stats}/stats;csv"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if all(row.split(",")[17] == "UP" for row in _get(stats_url)[1].splitlines()
                       if row.startswith("replicas,lab")):
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.5)
        else:
            pytest.fail("the replicas did not come up in 120 s")
        yield url, run, (first, first + 1), stats_url
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            stopped = proc.wait(30) is not None
        except subprocess.TimeoutExpired:
            stopped = False
        pids = [int(p.read_text()) for p in run.glob("*.pid")]
        deadline = time.monotonic() + 15
        while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
            time.sleep(0.5)
        left = [p for p in pids if _alive(p)]
        if left or not stopped:  # never leave replicas running into the rest of the suite
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert stopped, "serve.sh was still running 30 s after Ctrl-C"
        assert left == [], "serve.sh left processes behind on Ctrl-C"


def _alive(pid: int) -> bool:
    try:  # a zombie has ended; only its parent has not read its status yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_dockerfile_healthcheck_answers_for_a_live_server_only(two_replicas):
    _, _, (first, _), _ = two_replicas
    check = json.loads(_instruction("HEALTHCHECK")[0].split("CMD", 1)[1])
    assert "/_stcore/health" in " ".join(check)
    live = [a.replace(":8501/", f":{first}/") for a in check]
    assert subprocess.run(live, capture_output=True).returncode == 0
    dead = [a.replace(":8501/", f":{_free_port()}/") for a in check]
    assert subprocess.run(dead, capture_output=True).returncode != 0


def test_two_replicas_keep_their_sessions_and_survive_losing_one(two_replicas):
    """Sessions spread over both replicas and stay there (their pictures, fetched by plain HTTP, are
    found); then replica 1 is killed mid-run: its sessions reconnect through the proxy to replica 2 and
    their page is drawn again, and replica 2's sessions never lose their connection."""
    url, run, _, stats_url = two_replicas
    r = asyncio.run(load.run(url, sessions=4, seconds=14, home_seconds=1, stagger=0.3, timeout=90,
                             kill=str(run / "replica1.pid"), kill_after=10))
    assert r.connection_errors == [] and r.session_errors == [] and r.exceptions == []
    assert sorted(r.replicas.values()).count("lab1") >= 1 and sorted(r.replicas.values()).count("lab2") >= 1
    # Every picture was on the session's own replica; only those sent by replica 1 just before it died may be
    # lost (media_lost: failed after the kill, in a session that then failed over).
    assert r.media_fetched > 0 and r.media_failed == 0
    assert r.killed, "the kill did not happen within the run"
    on_lab1 = {i for i, name in r.replicas.items() if name == "lab1"}
    assert {f["session"] for f in r.failovers} == on_lab1  # exactly lab1's sessions had to reconnect …
    assert all(f["to"] == "lab2" and f["exceptions"] == [] for f in r.failovers)  # … to lab2, page drawn
    assert len(r.fault_moves) > 0  # lab2's sessions kept moving through the fault
    assert all(r.replicas_end[i] == "lab2" for i in r.replicas)  # the moved ones now belong to lab2
    logs = (run / "replica2.log").read_text(errors="replace")
    assert "Traceback" not in logs
    # serve.sh starts the dead replica again and HAProxy takes it back once healthy
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        rows = {row.split(",")[1]: row.split(",")[17] for row in _get(stats_url)[1].splitlines()
                if row.startswith("replicas,lab")}
        if rows.get("lab1") == "UP":
            break
        time.sleep(1)
    assert rows.get("lab1") == "UP", rows
    assert "exited" in (run / "replica1.log").read_text(errors="replace")


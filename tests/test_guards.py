"""A real class on a public server: no crafted link, file or tab can hurt it or its visitors (issue 24's items as
behaviour). Browser checks of the same live in test_browser_serving.py; stopping the server in test_stopping.py."""
import asyncio
import time
import tomllib
from pathlib import Path

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from tests.test_links import notices, open_link
from ui import jobs, links, serving

ROOT = Path(__file__).resolve().parent.parent
# A link key that, rendered as markdown, paints a fake "session expired" notice, an outside link and a remote image.
HOSTILE_KEY = ("x`\n\n### :red[Your lab session has expired]\n\n**Sign in again:** [lab.example.edu/login]"
               "(http://evil.example/login)\n\n![](http://evil.example/beacon.png)\n\n`y")


# ─── 1. Text from a link is plain text ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text", [HOSTILE_KEY, "a\u202eb\u200bc\x00d\x1b[31m", "<img src=x onerror=alert(1)>" * 9])
def test_outside_text_becomes_one_short_line_without_backticks_or_control_characters(text):
    shown = links.plain(text)
    assert "`" not in shown and "\n" not in shown and len(shown) <= links.MAX_SHOWN
    assert not any(c in shown for c in "\u202e\u200b\x00\x1b")
    quoted = links._quoted(text, text)
    assert quoted.count("`") == 2 and quoted.startswith("`") and quoted.endswith("`")  # one code span, nothing outside


@pytest.mark.parametrize("slug", ["denoising", "training", ""])
def test_a_hostile_link_key_is_named_as_plain_text_on_every_page(slug):
    """The key used to be put in the notice as it came: a red heading, a link and a remote image on our page.
    The training page ignored unknown keys without a word."""
    at = open_link(slug, {HOSTILE_KEY: "1"})
    lines = notices(at)
    assert len(lines) == 1, [w.value for w in at.warning]
    assert lines[0].count("`") == 2 and "\n" not in lines[0]
    assert "](" not in lines[0].split("`")[0] + lines[0].split("`")[2]  # no link or image outside the code span
    assert not any("expired" in m.value for m in at.markdown)
    assert dict(at.query_params).get(HOSTILE_KEY) is None  # the URL is written clean


# ─── 3. Per-person limits: uploads held, jobs queued ────────────────────────────────────────────────────
def upload(manager, session, n, size):
    manager.add_file(session, UploadedFileRec(file_id=f"f{n}", name=f"{n}.png", type="image/png", data=b"x" * size))


def test_a_session_holds_a_few_uploads_at_most_the_newest(monkeypatch):
    """30 PUTs of 5 MB to one session were all held (+143 MB); now the session keeps its newest few."""
    monkeypatch.setattr(MemoryUploadedFileManager, "add_file", serving.STREAMLIT_ADD_FILE)
    serving._installed = False
    serving.install()
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    for n in range(30):
        upload(manager, "tab1", n, 3 * 2**20)
    upload(manager, "tab2", 99, 1000)
    held = manager.file_storage["tab1"]
    assert len(held) <= serving.MAX_SESSION_UPLOADS
    assert sum(len(f.data) for f in held.values()) <= serving.MAX_SESSION_UPLOAD_BYTES
    assert "f29" in held and "f0" not in held  # the newest is the one a page reads
    assert list(manager.file_storage["tab2"]) == ["f99"]  # another session is untouched
    assert manager._total_bytes == sum(len(f.data) for s in manager.file_storage.values() for f in s.values())
    assert manager._file_count == sum(len(s) for s in manager.file_storage.values())


def test_jobs_are_limited_per_tab_and_per_address():
    first = jobs.claim(("tab1", "10.0.0.7"))
    with pytest.raises(jobs.Refused) as same_tab:
        jobs.claim(("tab1", "10.0.0.7"))
    assert same_tab.value.why == "session"
    others = [jobs.claim((f"tab{i}", "10.0.0.7")) for i in range(2, jobs.PER_CLIENT + 1)]
    with pytest.raises(jobs.Refused) as same_address:
        jobs.claim(("tab9", "10.0.0.7"))
    assert same_address.value.why == "client" and same_address.value.limit == jobs.PER_CLIENT
    elsewhere = jobs.claim(("tab9", "10.0.0.8"))  # another student is not refused
    jobs.release(first)
    again = jobs.claim(("tab1", "10.0.0.7"))  # a claim given back frees its place
    for token in (again, elsewhere, *others):
        jobs.release(token)
    assert not jobs._claims


def test_a_refused_job_says_why_in_words():
    from core import i18n

    for lang in i18n.LANGUAGES:
        t = i18n.translator(lang)
        for why in ("session", "client"):
            text = jobs.refusal(t, jobs.Refused(why, 2))
            assert len(text) > 40 and "{" not in text
        assert str(jobs.PER_CLIENT) in jobs.refusal(t, jobs.Refused("client", jobs.PER_CLIENT))


class FakeTraining:
    """What ui.training.SessionTraining watches of a LiveTraining."""

    def __init__(self):
        self.running_at, self.stopped = time.time(), False

    def is_alive(self):
        return not self.stopped

    def stop(self):
        self.stopped = True

    def join(self, timeout=None):
        return True


def test_a_job_is_stopped_at_its_wall_time_and_gives_its_claim_back():
    from ui.training import SessionTraining

    claim = jobs.claim(("tab-long", "10.0.0.9"))
    run = SessionTraining(FakeTraining(), claim, max_seconds=0.5)
    run._watchdog.start()
    run._watchdog.join(10)
    assert run.training.stopped and run.timed_out
    assert claim not in jobs._claims


def test_every_run_has_its_own_random_id():
    """Cached rows of a session's model were found by id(run): freed addresses come back (242 of 2,000 tries)."""
    from ui.training import SessionTraining

    ids = {SessionTraining(FakeTraining()).id for _ in range(2000)}
    assert len(ids) == 2000 and all(len(i) == 32 for i in ids)


# ─── 5. What a public server should not keep ───────────────────────────────────────────────────────────
def test_visitors_never_see_tracebacks():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def call(path, client=("203.0.113.5", 5000), headers=()):
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"inner"})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "client": client, "headers": list(headers)}
    asyncio.run(serving.Guard(app)(scope, None, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_every_reply_carries_the_security_headers():
    status, headers, body = call("/")
    assert status == 200 and body == b"inner"
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"content-security-policy"] == b"frame-ancestors 'none'"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"no-referrer"


@pytest.mark.parametrize("client, headers, status", [
    (("203.0.113.5", 5000), (), 404),                                # a visitor
    (("127.0.0.1", 5000), ((b"x-forwarded-for", b"203.0.113.5"),), 404),  # a visitor through HAProxy
    (("::ffff:127.0.0.1", 5000), (), 200),                             # the machine itself
])
def test_metrics_answer_the_machine_itself_only(client, headers, status):
    assert call("/_stcore/metrics", client, headers)[0] == status


def test_haproxy_denies_metrics_limits_uploads_and_sets_the_headers():
    cfg = (ROOT / "deploy" / "haproxy.cfg").read_text()
    assert "http-request deny deny_status 404 if { path_beg /_stcore/metrics }" in cfg
    assert "http-request set-header X-Forwarded-For %[src]" in cfg
    assert "sc_http_req_rate(0) gt" in cfg and "track-sc0 src if upload" in cfg
    for header in ("X-Frame-Options DENY", "Content-Security-Policy \"frame-ancestors 'none'\"",
                   "X-Content-Type-Options nosniff", "Referrer-Policy no-referrer"):
        assert f"http-response set-header {header}" in cfg

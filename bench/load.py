"""N simulated sessions over Streamlit's own websocket, no browser: slider moves timed at the server.

    python bench/load.py --serve --sessions 5 --seconds 20 --pages denoising,latent_space,anomaly,your_digit,resnet
    python bench/load.py --url http://127.0.0.1:8501 --pid 1234 --sessions 20 --seconds 30 --rounds 3

Each session does what a browser does, minus the drawing: GET "/" (keeping cookies, so a sticky load balancer
keeps it on one replica), opens the websocket, runs home, waits --home-seconds, clicks its page in the sidebar
(the "first visit"), then moves that page's slider for --seconds. A move is timed from sending the rerun to
`script_finished`: server time, what DESIGN.md budgets. A move whose pictures (or, on resnet and anomaly,
metrics, charts and tables) did not change is counted as unchanged: Streamlit silently ignores a wrong
widget id, so a move that changed nothing measured nothing. Session i drives page i mod len(--pages).
The client runs on the same machine as a --serve'd server and takes a little of its CPU.

--jobs N adds N job sessions: after the same home wait they open the ResNet page and, for --seconds, press its
"Train both" button again and again (the race's steps set to --job-steps in the same rerun, as a browser
sends a click: the button's id with trigger_value=True, once), each time reading the run to its end (up to
--job-timeout) and watching its progress bar: "Queued: … Waiting S s" while the server-wide job cap holds it,
"Step k of n" while it trains, and the "… steps in … s" caption when the race finished. Job sessions' runs
are not in the slider table: that table says whether the others' sliders stay quick while a job runs.

Behind a load balancer (deploy/serve.sh): each session's replica is read from the sticky cookie
(--sticky-cookie, LAB as deploy/haproxy.cfg sets it) and the report counts sessions per replica. When a
session's websocket drops, it does what Streamlit's browser client does: polls /_stcore/health, reopens the
websocket with its cookies (the proxy sends it to a live replica), and sends its next rerun with every
widget state it holds. (The browser keeps showing the old page until the student's next move; this client
moves at once.) The report gives each such failover: from and to which replica, seconds from the drop to
that first run answered on the new replica, and the error that ended the old connection. --kill PIDFILE --kill-after S sends SIGKILL to that process
S seconds after the run starts: a replica dying mid-class.

--arrive-after S: the server stands S seconds with nobody on it, then every session arrives at once (--stagger 0):
a class arriving together on a server nobody opened. With --seconds 0 only the arrival is measured:

    python bench/load.py --serve --arrive-after 20 --sessions 30 --seconds 0 \
        --pages denoising,latent_space,anomaly,your_digit,resnet
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import email.message
import hashlib
import http.cookiejar
import os
import signal
import json
import random
import re
import sys
import time
import urllib.request
from pathlib import Path

import websockets
from websockets.asyncio.client import connect
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

ROOT = Path(__file__).resolve().parent.parent
# The slider each page's sessions move, by its user key (a trailing "_" matches a key prefix: the anomaly
# threshold's key names the normal digits and the score).
SLIDERS = {"denoising": "noise_factor", "latent_space": "z1", "anomaly": "threshold_",
           "your_digit": "digit_noise_factor", "resnet": "rn_blocks", "clustering": "cl_k"}
# What a move must change to count. Pictures are media URLs, and those are content hashes; resnet and
# anomaly answer a slider with numbers, charts and tables instead.
PICTURES = frozenset({"imgs"})
ANYTHING = frozenset({"imgs", "metric", "vega_lite_chart", "dataframe", "table", "graphviz_chart",
                      "plotly_chart", "json", "code"})
WATCH = {"resnet": ANYTHING, "anomaly": ANYTHING}
FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
FRAGMENT_DONE = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
MEDIA = re.compile(r"/media/[0-9a-f]+\.\w+")
CACHE_RUNS = 10  # runs a cached message is kept without being used
# Job sessions: the ResNet race (pages/resnet.py), its button and steps slider by user key, and what its
# progress bar and summary say in the English UI (core/locales/en.json: jobs.queued, resnet.race_progress,
# resnet.race_summary).
JOB_PAGE, RACE_BUTTON, RACE_STEPS = "resnet", "rn_race_run", "rn_steps"
QUEUED = re.compile(r"^Queued:.*?waiting (\d+(?:\.\d+)?) s", re.I | re.S)
STEP = re.compile(r"^Step (\d+) of (\d+)")
SUMMARY = "steps in"


@dataclasses.dataclass
class PageStats:
    moves: list = dataclasses.field(default_factory=list)        # seconds, send → script_finished
    first_visits: list = dataclasses.field(default_factory=list)  # click in the sidebar → script_finished
    unchanged: int = 0              # moves after which nothing watched had changed
    unchanged_with_error: int = 0   # … of which showed an st.error
    errors: int = 0                 # st.error alerts seen, first visits and moves
    error_texts: list = dataclasses.field(default_factory=list)  # the first few st.error bodies
    exceptions: list = dataclasses.field(default_factory=list)   # Streamlit Exception elements: "Type: message"

    def tally(self, run: dict):
        self.errors += len(run["errors"])
        self.error_texts += [e[:200] for e in run["errors"] if e[:200] not in self.error_texts][:3 - len(self.error_texts)]
        self.exceptions += run["exceptions"]


@dataclasses.dataclass
class JobStats:
    """The job sessions' runs, kept out of the slider table."""
    runs: list = dataclasses.field(default_factory=list)  # one dict per press, see job_session
    presses: int = 0                # button presses sent (a run cut off by an error has no entry in runs)
    home: list = dataclasses.field(default_factory=list)          # their home's first render, seconds
    first_visits: list = dataclasses.field(default_factory=list)  # their click on the ResNet page
    errors: int = 0                 # st.error alerts in their runs
    error_texts: list = dataclasses.field(default_factory=list)
    exceptions: list = dataclasses.field(default_factory=list)    # Streamlit Exception elements

    tally = PageStats.tally

    @property
    def finished(self) -> list:
        """The runs that ended with the race summary."""
        return [r for r in self.runs if r["summary"]]


@dataclasses.dataclass
class Result:
    pages: dict = dataclasses.field(default_factory=dict)         # page → PageStats
    home: list = dataclasses.field(default_factory=list)          # home's first render, seconds
    connection_errors: list = dataclasses.field(default_factory=list)  # network: refused, closed, timed out
    session_errors: list = dataclasses.field(default_factory=list)     # protocol or page: no such slider, …
    media_fetched: int = 0
    media_failed: int = 0
    media_lost: int = 0             # pictures of a killed replica that its sessions could no longer fetch
    move_seconds: float = 0.0       # wall time from the first move sent to the last one finished
    all_moving: tuple = (0, 0.0)    # (moves finished, seconds) while every session was moving
    windows: list = dataclasses.field(default_factory=list)   # per session: (start, end) of its moves
    move_ends: list = dataclasses.field(default_factory=list)  # perf_counter of each move's end
    rss_max_mb: float | None = None
    rss_last_mb: float | None = None
    jobs: JobStats = dataclasses.field(default_factory=JobStats)
    replicas: dict = dataclasses.field(default_factory=dict)   # session → sticky cookie's value at its start
    replicas_end: dict = dataclasses.field(default_factory=dict)  # … and at its end
    failovers: list = dataclasses.field(default_factory=list)  # one dict per dropped and re-made connection
    fault_moves: list = dataclasses.field(default_factory=list)  # sessions that never dropped: moves after a kill
    killed: dict = dataclasses.field(default_factory=dict)     # {"pid", "at"} when --kill fired

    @property
    def moves(self) -> int:
        return sum(len(p.moves) for p in self.pages.values())

    @property
    def exceptions(self) -> list:
        return [e for p in self.pages.values() for e in p.exceptions]

    @property
    def unchanged(self) -> int:
        return sum(p.unchanged for p in self.pages.values())


class _Answer:
    """The websocket handshake's answer, shaped as CookieJar.extract_cookies reads a urllib response."""

    def __init__(self, headers: email.message.Message):
        self.headers = headers

    def info(self):
        return self.headers


def user_key(widget_id: str) -> str:
    """Streamlit's ids for keyed widgets are "$$ID-<hash>-<key>"."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") and widget_id.count("-") >= 2 else ""


def widget_state(kind: str, el) -> WidgetState | None:
    """The value a browser would hold for a widget it has just been sent: the delta's value when the server
    set one (session state), else its default. None for widgets we do not model (buttons, uploads,
    select sliders, components): left out, the server keeps their last value, as it does for a browser."""
    w = WidgetState(id=el.id)
    if kind == "slider" and not el.options:  # st.slider, int or float: always double_array_value
        w.double_array_value.data[:] = el.value if el.set_value else el.default
    elif kind == "slider":  # st.select_slider (the anomaly threshold): its formatted options, by index
        w.string_array_value.data[:] = [el.options[int(i)] for i in (el.value if el.set_value else el.default)]
    elif kind == "checkbox":  # st.checkbox and st.toggle
        w.bool_value = el.value if el.set_value else el.default
    elif kind in ("radio", "selectbox"):  # the formatted option, a string, since Streamlit 1.5x
        if el.set_value and el.HasField("raw_value"):
            w.string_value = el.raw_value
        elif el.HasField("default") and el.default < len(el.options):
            w.string_value = el.options[el.default]
        else:
            return None
    elif kind == "multiselect":
        w.string_array_value.data[:] = el.raw_values if el.set_value else [el.options[i] for i in el.default]
    elif kind == "number_input":
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        if el.data_type == type(el).DataType.INT:
            w.int_value = int(value)
        else:
            w.double_value = value
    elif kind in ("text_input", "text_area"):
        value = el.value if el.set_value and el.HasField("value") else el.default if el.HasField("default") else None
        if value is None:
            return None
        w.string_value = value
    else:
        return None
    return w


class Session:
    """One simulated browser tab: cookies, a websocket, the widget states and what the page shows."""

    def __init__(self, url: str, timeout: float, fetch_media: bool):
        self.url, self.timeout, self.fetch_media = url.rstrip("/"), timeout, fetch_media
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws = None
        self.nav: dict[str, str] = {}      # url_pathname → page_script_hash, from the last navigation message
        self.page_hash = ""
        self.states: dict[str, WidgetState] = {}   # widget id → the value we would send
        self.widgets: dict[str, tuple] = {}        # widget id → (kind, element proto, fragment id)
        self.buttons: dict[str, str] = {}          # button id → fragment id (no state: a click is a trigger)
        self.shown: dict[tuple, tuple] = {}        # delta path → (element kind, content digest)
        self.cache: dict[str, ForwardMsg] = {}     # cacheable messages by hash, as the browser keeps them
        self.cache_used: dict[str, int] = {}       # hash → the last run that sent or referred to it
        self.runs = 0
        self.media_seen: set[str] = set()
        self.media_fetched = 0
        self.media_failures: list[float] = []  # perf_counter of each failed fetch

    async def connect(self):
        # GET "/" first, as a browser does: it sets the XSRF cookie, and a sticky load balancer's cookie.
        await asyncio.to_thread(lambda: self.http.open(self.url + "/", timeout=self.timeout).read())
        await self.open_socket()

    async def open_socket(self):
        cookies = {c.name: c.value for c in self.jar}
        xsrf = cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
        # No pings: a browser sends none, and a server busy in a 5 s first run must not look dead to us.
        self.ws = await connect(
            re.sub(r"^http", "ws", self.url) + "/_stcore/stream", subprotocols=["streamlit", xsrf],
            additional_headers=headers, max_size=None, ping_interval=None, open_timeout=self.timeout)
        # A load balancer may (re)assign the replica in the websocket handshake's answer: keep its cookie.
        answer = email.message.Message()
        for value in self.ws.response.headers.get_all("Set-Cookie"):
            answer["Set-Cookie"] = value
        self.jar.extract_cookies(_Answer(answer), urllib.request.Request(self.url + "/_stcore/stream"))

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    async def reconnect(self, give_up: float) -> dict:
        """What Streamlit's client does when its websocket drops: poll /_stcore/health until the server
        answers, reopen the websocket (same cookies); then the next rerun, with the widget states it holds.
        Returns that rerun. give_up: perf_counter time after which the last error is raised."""
        await self.close()
        while True:
            try:
                await asyncio.to_thread(lambda: self.http.open(self.url + "/_stcore/health", timeout=5).read())
                await self.open_socket()  # no GET "/": the browser keeps its page, it only reconnects
                return await self.rerun()
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
                if time.perf_counter() > give_up:
                    raise
                await self.close()
                await asyncio.sleep(0.5)

    async def close(self):
        if self.ws is not None:
            try:
                await self.ws.close()
            except (OSError, websockets.exceptions.WebSocketException):
                pass  # already gone

    async def rerun(self, fragment_id: str = "", timeout: float | None = None, on_element=None) -> dict:
        """Send a rerun with every widget state we hold; read until the run (not one cut short for a
        rerun) finished. Returns its seconds, status, exceptions, st.error count and whether it changed
        anything of `self.watch`. timeout: seconds for this run (default the session's); on_element(kind, el)
        is called for every element the run draws, as it arrives."""
        state = ClientState(page_script_hash=self.page_hash, fragment_id=fragment_id,
                            widget_states=WidgetStates(widgets=self.states.values()),
                            cached_message_hashes=self.cache.keys(),
                            context_info=ContextInfo(timezone="UTC", locale="en-US"))
        t0 = time.perf_counter()
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        sent, seen, exceptions, errors = {}, set(), [], []
        deadline = t0 + (self.timeout if timeout is None else timeout)
        self.runs += 1
        while True:
            msg, ref = ForwardMsg(), None
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), max(deadline - time.perf_counter(), 0.01)))
            kind = msg.WhichOneof("type")
            if kind == "ref_hash":  # the server trusts us to have this one: we declared it cached
                if msg.ref_hash not in self.cache:
                    raise RuntimeError(f"ref_hash {msg.ref_hash} of a message we never had")
                ref, msg = msg, ForwardMsg()
                msg.CopyFrom(self.cache[ref.ref_hash])
                msg.metadata.CopyFrom(ref.metadata)  # where it goes this time
                kind = "delta"
            elif msg.metadata.cacheable:
                self.cache[msg.hash] = msg
            if msg.metadata.cacheable or ref is not None:
                self.cache_used[msg.hash] = self.runs
            if kind == "new_session":  # a run (re)started: what came before it is gone
                sent, seen = {}, set()
            elif kind == "navigation":
                self.nav = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            elif kind == "page_not_found":
                exceptions.append(f"PageNotFound: {msg.page_not_found.page_name}")
            elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
                e = msg.session_event.script_compilation_exception
                exceptions.append(f"{e.type}: {e.message}")
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el_kind = msg.delta.new_element.WhichOneof("type")
                el = getattr(msg.delta.new_element, el_kind)
                if on_element is not None:
                    on_element(el_kind, el)
                if el_kind == "exception" and not el.is_warning:
                    exceptions.append(f"{el.type}: {el.message}")
                elif el_kind == "alert" and el.format == Alert.ERROR:
                    errors.append(el.body)
                if el_kind in self.watch:
                    digest = (tuple(img.url for img in el.imgs) if el_kind == "imgs"
                              else hashlib.blake2b(el.SerializeToString(deterministic=True), digest_size=12).hexdigest())
                    sent[tuple(msg.metadata.delta_path)] = (el_kind, digest)
                w = widget_state(el_kind, el) if getattr(el, "id", "") else None
                if el_kind == "button" and el.id:
                    seen.add(el.id)
                    self.buttons[el.id] = msg.delta.fragment_id
                if getattr(el, "id", "") and el_kind not in ("button", "download_button"):
                    seen.add(el.id)
                    self.widgets[el.id] = (el_kind, el, msg.delta.fragment_id)
                    if w is not None and (el.id not in self.states or getattr(el, "set_value", False)):
                        self.states[el.id] = w
            elif kind == "script_finished" and msg.script_finished != FINISHED_EARLY:
                break
        seconds = time.perf_counter() - t0
        full = msg.script_finished != FRAGMENT_DONE
        if full:  # the browser forgets the widgets a full run did not draw
            self.states = {k: v for k, v in self.states.items() if k in seen}
            self.widgets = {k: v for k, v in self.widgets.items() if k in seen}
            self.buttons = {k: v for k, v in self.buttons.items() if k in seen}
        changed = any(self.shown.get(p) != v for p, v in sent.items()) or (full and sent.keys() != self.shown.keys())
        self.shown = sent if full else {**self.shown, **sent}
        # The browser drops cached messages no run has used for a while; so do we (the latent map is 5.6 MB).
        self.cache = {h: m for h, m in self.cache.items() if self.cache_used.get(h, 0) > self.runs - CACHE_RUNS}
        self.cache_used = {h: n for h, n in self.cache_used.items() if h in self.cache}
        if self.fetch_media:
            await self.get_media([u for _, digest in sent.values() if isinstance(digest, tuple) for u in digest
                                  if MEDIA.fullmatch(u)])
        return {"seconds": seconds, "status": msg.script_finished, "exceptions": exceptions, "errors": errors,
                "changed": changed}

    async def get_media(self, paths: list[str]):
        """What the browser fetches next, with the same cookies: on two replicas without stickiness these fail."""
        for path in paths:
            if path in self.media_seen:
                continue
            self.media_seen.add(path)
            try:
                await asyncio.to_thread(lambda: self.http.open(self.url + path, timeout=self.timeout).read())
                self.media_fetched += 1
            except OSError:
                self.media_failures.append(time.perf_counter())

    async def open(self, page: str) -> dict:
        """A click on the page's link in the sidebar ("" is home, as when "/" is opened)."""
        self.page_hash, self.watch = self.nav.get(page, ""), WATCH.get(page, PICTURES)
        if page and not self.page_hash:
            raise RuntimeError(f"no page {page!r} in the navigation: {sorted(self.nav)}")
        self.shown = {}
        return await self.rerun()

    def slider(self, page: str):
        """The page's slider, found by its user key: (id, element, fragment id)."""
        name = SLIDERS[page]
        for wid, (kind, el, fragment) in self.widgets.items():
            key = user_key(wid)
            if kind == "slider" and (key == name or (name.endswith("_") and key.startswith(name))):
                return wid, el, fragment
        raise RuntimeError(f"no slider {name!r} on {page}: {sorted(map(user_key, self.widgets))}")

    async def move(self, page: str, rng: random.Random, wrong_id: bool = False) -> dict:
        """Move the slider to a value it does not have (a random walk of 1–3 steps within its range)."""
        wid, el, fragment = self.slider(page)
        if el.options:  # a select slider: 1–3 options along, sent as the option's text
            held = self.states[wid].string_array_value.data if wid in self.states else []
            now = list(el.options).index(held[0]) if held and held[0] in el.options else len(el.options) // 2
            at = now
            while at == now:
                at = min(len(el.options) - 1, max(0, now + rng.choice((-3, -2, -1, 1, 2, 3))))
            moved = WidgetState(id=wid + "-wrong" if wrong_id else wid)
            moved.string_array_value.data[:] = [el.options[at]]
            self.states[moved.id] = moved
            try:
                return await self.rerun(fragment)
            finally:
                self.states.pop(wid + "-wrong", None)
        if el.max - el.min < (el.step or 0) / 2 or el.max <= el.min:
            raise RuntimeError(f"slider {user_key(wid)!r} has one value: {el.min}")
        now = self.states[wid].double_array_value.data[0]
        step = el.step or (el.max - el.min) / 100
        value = now
        while abs(value - now) < step / 2:
            value = min(el.max, max(el.min, now + step * rng.choice((-3, -2, -1, 1, 2, 3))))
        value = round(value) if el.data_type == type(el).DataType.INT else round(value, 10)
        moved = WidgetState(id=wid + "-wrong" if wrong_id else wid)
        moved.double_array_value.data[:] = [value]
        self.states[moved.id] = moved
        try:
            return await self.rerun(fragment)
        finally:
            self.states.pop(wid + "-wrong", None)


    def find(self, key: str, kinds: dict) -> str:
        """The id of the widget in `kinds` (ours: widgets or buttons) whose user key is `key`."""
        for wid in kinds:
            if user_key(wid) == key:
                return wid
        raise RuntimeError(f"no widget {key!r}: {sorted(map(user_key, {**self.widgets, **self.buttons}))}")

    async def press(self, key: str, sliders: dict | None = None, timeout: float | None = None,
                    on_element=None) -> dict:
        """Click the button with user key `key`, as the browser does: its id with trigger_value=True in this
        rerun's widget states only (the browser resets a trigger once sent), with every other state we hold,
        and the sliders named by user key in `sliders` set to their values."""
        wid = self.find(key, self.buttons)
        for name, value in (sliders or {}).items():
            sid = self.find(name, self.widgets)
            moved = WidgetState(id=sid)
            moved.double_array_value.data[:] = [value]
            self.states[sid] = moved
        self.states[wid] = WidgetState(id=wid, trigger_value=True)
        try:
            return await self.rerun(self.buttons[wid], timeout, on_element)
        finally:
            self.states.pop(wid, None)


async def one_session(i: int, url: str, page: str, result: Result, seconds: float, home_seconds: float,
                      stagger: float, think: float, timeout: float, fetch_media: bool, seed: int,
                      wrong_widget_id: bool, moving: list, sticky_cookie: str = "LAB"):
    stats = result.pages.setdefault(page, PageStats())
    rng = random.Random(seed * 1000 + i)
    await asyncio.sleep(i * stagger)
    s = Session(url, timeout, fetch_media)
    dropped = False

    async def survive(call):
        """call() → its run; if the connection drops, the run the browser's reconnect gets instead."""
        nonlocal dropped
        try:
            return await call()
        except (OSError, websockets.exceptions.WebSocketException) as e:  # the server (or its replica) went
            dropped, t0, before = True, time.perf_counter(), s.cookie(sticky_cookie)
            r = await s.reconnect(give_up=t0 + timeout)
            result.failovers.append({"session": i, "page": page, "from": before, "to": s.cookie(sticky_cookie),
                                     "seconds": time.perf_counter() - t0, "error": f"{type(e).__name__}: {e}"[:200],
                                     "exceptions": r["exceptions"]})
            return dict(r, failover=True)

    try:
        await s.connect()
        result.replicas[i] = s.cookie(sticky_cookie)
        home = await survive(lambda: s.open(""))
        result.home.append(home["seconds"])
        await asyncio.sleep(home_seconds)
        first = await survive(lambda: s.open(page))
        stats.first_visits.append(first["seconds"])
        stats.tally(first)
        start = time.perf_counter()
        moving[0] = min(moving[0], start)
        while time.perf_counter() < start + seconds:
            r = await survive(lambda: s.move(page, rng, wrong_widget_id))
            if r.get("failover"):  # the move was lost with the connection; the page was drawn again
                stats.tally(r)
                continue
            result.move_ends.append(time.perf_counter())
            if result.killed and not dropped:
                result.fault_moves.append(r["seconds"])
            stats.moves.append(r["seconds"])
            stats.tally(r)
            if not r["changed"]:
                stats.unchanged += 1
                stats.unchanged_with_error += bool(r["errors"])
            await asyncio.sleep(think)
        moving[1] = max(moving[1], time.perf_counter())
        result.windows.append((start, time.perf_counter()))
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
        result.connection_errors.append(f"session {i} ({page}): {type(e).__name__}: {e}"[:300])
    except (RuntimeError, KeyError, IndexError) as e:
        result.session_errors.append(f"session {i} ({page}): {type(e).__name__}: {e}"[:300])
    finally:
        result.media_fetched += s.media_fetched
        # A picture sent just before its replica was killed cannot be fetched after: lost with the replica
        # (the page is drawn again on the live one), not a stickiness failure.
        lost = [t for t in s.media_failures if dropped and result.killed and t >= result.killed["at"]]
        result.media_lost += len(lost)
        result.media_failed += len(s.media_failures) - len(lost)
        result.replicas_end[i] = s.cookie(sticky_cookie)
        await s.close()


async def job_session(i: int, url: str, result: Result, seconds: float, home_seconds: float, stagger: float,
                      timeout: float, job_timeout: float, steps: int, fetch_media: bool):
    """Open the ResNet page, then press its race button again and again for `seconds` (the last race is let
    finish, up to job_timeout), each run read to its end. Per run in result.jobs.runs: seconds (click →
    script_finished), queued (the bar ever said "Queued:"), max_wait_s (the longest "Waiting S s" it showed),
    start_s (click → the bar's last "Step" before any further "Queued", about when training began), last_step
    ([k, n] of the last "Step k of n"), summary (ended with the "… steps in … s" caption), exceptions."""
    jobs = result.jobs
    name = f"job session {i}"
    await asyncio.sleep(i * stagger)
    s = Session(url, timeout, fetch_media)
    try:
        await s.connect()
        home = await s.open("")
        jobs.home.append(home["seconds"])
        await asyncio.sleep(home_seconds)
        first = await s.open(JOB_PAGE)
        jobs.first_visits.append(first["seconds"])
        jobs.tally(first)
        start = time.perf_counter()
        while time.perf_counter() < start + seconds:
            seen = {"queued": False, "max_wait_s": None, "start_s": None, "last_step": None, "summary": False}
            t0 = time.perf_counter()

            def watch(kind, el):
                if kind == "progress":
                    if m := QUEUED.match(el.text):
                        seen["queued"], seen["start_s"] = True, None
                        seen["max_wait_s"] = max(float(m.group(1)), seen["max_wait_s"] or 0.0)
                    elif m := STEP.match(el.text):
                        seen["last_step"] = [int(m.group(1)), int(m.group(2))]
                        if seen["start_s"] is None:
                            seen["start_s"] = time.perf_counter() - t0
                elif kind == "markdown" and el.element_type == type(el).Type.CAPTION and SUMMARY in el.body:
                    seen["summary"] = True

            jobs.presses += 1
            r = await s.press(RACE_BUTTON, {RACE_STEPS: steps}, job_timeout, watch)
            jobs.runs.append({"session": i, "seconds": r["seconds"], **seen, "exceptions": len(r["exceptions"]),
                              "errors": len(r["errors"])})
            jobs.tally(r)
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as e:
        result.connection_errors.append(f"{name} ({JOB_PAGE}): {type(e).__name__}: {e}"[:300])
    except (RuntimeError, KeyError, IndexError) as e:
        result.session_errors.append(f"{name} ({JOB_PAGE}): {type(e).__name__}: {e}"[:300])
    finally:
        result.media_fetched += s.media_fetched
        result.media_failed += len(s.media_failures)
        await s.close()


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None


async def sample_rss(pid: int, result: Result):
    while True:
        mb = rss_mb(pid)
        if mb is not None:
            result.rss_last_mb, result.rss_max_mb = mb, max(mb, result.rss_max_mb or 0)
        await asyncio.sleep(0.5)


async def kill_later(pidfile: str, after: float, result: Result):
    """SIGKILL the process whose pid is in `pidfile`, `after` seconds from now: a replica dying mid-run."""
    await asyncio.sleep(after)
    pid = int(Path(pidfile).read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    result.killed = {"pid": pid, "at": time.perf_counter()}


async def run(url: str, sessions: int = 1, seconds: float = 10, pages=("denoising",), home_seconds: float = 0,
              stagger: float = 0, think: float = 0, pid: int | None = None, timeout: float = 60,
              fetch_media: bool = True, seed: int = 0, wrong_widget_id: bool = False, jobs: int = 0,
              job_steps: int = 200, job_timeout: float = 600, sticky_cookie: str = "LAB",
              kill: str | None = None, kill_after: float = 0) -> Result:
    """Run `sessions` sessions against a running server; session i drives pages[i % len(pages)]; and `jobs`
    job sessions pressing the ResNet race (job_steps steps, each run given job_timeout s), in result.jobs.
    wrong_widget_id (for the test): every move names an id the page does not have. kill: a pid file whose
    process gets SIGKILL kill_after seconds into the run."""
    result = Result()
    moving = [float("inf"), 0.0]
    sampler = asyncio.create_task(sample_rss(pid, result)) if pid else None
    killer = asyncio.create_task(kill_later(kill, kill_after, result)) if kill else None
    try:
        await asyncio.gather(*(one_session(i, url, pages[i % len(pages)], result, seconds, home_seconds, stagger,
                                           think, timeout, fetch_media, seed, wrong_widget_id, moving, sticky_cookie)
                               for i in range(sessions)),
                             *(job_session(i, url, result, seconds, home_seconds, stagger, timeout, job_timeout,
                                           job_steps, fetch_media) for i in range(jobs)))
    finally:
        if killer and not killer.done():
            killer.cancel()
        if sampler:
            sampler.cancel()
            result.rss_last_mb = rss_mb(pid) or result.rss_last_mb
            result.rss_max_mb = max(result.rss_max_mb or 0, result.rss_last_mb or 0) or None
    result.move_seconds = max(moving[1] - moving[0], 0.0)
    # First visits differ by seconds, so sessions do not all move at once: the rate that says what one
    # server sustains for N people is the one counted while every session was moving.
    if len(result.windows) == sessions:
        lo, hi = max(w[0] for w in result.windows), min(w[1] for w in result.windows)
        if hi > lo:
            result.all_moving = (sum(lo < t <= hi for t in result.move_ends), hi - lo)
    return result


def pct(xs: list, q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def report_jobs(j: JobStats) -> list[str]:
    done = j.finished
    secs = ", ".join(f"{x['seconds']:.1f}" for x in done)
    queued = [x for x in j.runs if x["queued"]]
    waits = [x["max_wait_s"] for x in queued if x["max_wait_s"] is not None]
    starts = [x["start_s"] for x in j.runs if x["start_s"] is not None]
    other = [x for x in j.runs if not x["summary"]]
    lines = [f"jobs: {len(j.home)} sessions, {j.presses} presses, {len(j.runs)} runs ended",
             f"  races finished: {len(done)}" + (f", seconds click → finished: {secs}"
                                                  f" (median {pct([x['seconds'] for x in done], .5):.1f})" if done else ""),
             f"  queued: {len(queued)} of {len(j.runs)} runs" + (f", longest wait shown {max(waits):.0f} s" if waits else ""),
             "  click → training began: " + (f"{pct(starts, .5):.1f} s median, {max(starts):.1f} s max" if starts else "–")]
    if other:
        lines.append(f"  runs without the summary: {len(other)}" + "".join(
            f"\n    session {x['session']}: {x['seconds']:.1f} s, last step {x['last_step']}" for x in other[:5]))
    lines += ["  first visit (ResNet): " + (f"{pct(j.first_visits, .5):.2f} s median, {max(j.first_visits):.2f} s max"
                                             if j.first_visits else "–"),
              f"  exceptions: {len(j.exceptions)}" + (f", first: {j.exceptions[0][:200]}" if j.exceptions else ""),
              f"  st.error: {j.errors}" + "".join(f"\n    {text!r}" for text in j.error_texts)]
    return lines


def report(r: Result) -> str:
    ms = lambda xs, q: f"{pct(xs, q) * 1000:8.0f}" if xs else "       –"  # noqa: E731
    lines = [f"{'page':<14}{'moves':>6}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'first visit s':>16}"
             f"{'unchanged':>11}{'st.error':>10}{'exceptions':>12}"]
    every = []
    for page, p in r.pages.items():
        every += p.moves
        first = f"{pct(p.first_visits, 0.5):.2f}" + (f" (max {max(p.first_visits):.2f})" if len(p.first_visits) > 1
                                                     else "") if p.first_visits else "–"
        unchanged = f"{p.unchanged}" + (f" ({p.unchanged_with_error} err)" if p.unchanged_with_error else "")
        lines.append(f"{page:<14}{len(p.moves):>6}{ms(p.moves, .5)}{ms(p.moves, .95)}{ms(p.moves, 1)}{first:>16}"
                     f"{unchanged:>11}{p.errors:>10}{len(p.exceptions):>12}")
    lines.append(f"{'all':<14}{len(every):>6}{ms(every, .5)}{ms(every, .95)}{ms(every, 1)}{'':>16}{r.unchanged:>11}"
                 f"{sum(p.errors for p in r.pages.values()):>10}{len(r.exceptions):>12}")
    rate = r.moves / r.move_seconds if r.move_seconds else 0.0
    n, width = r.all_moving
    together = f"; {n / width:.2f} while all {len(r.windows)} sessions moved ({width:.1f} s)" if width else ""
    lines += [f"reruns/s: {rate:.2f} (slider moves finished, over the {r.move_seconds:.1f} s of moving){together}",
              f"home, first render: {pct(r.home, .5):.2f} s median, {max(r.home, default=float('nan')):.2f} s max"
              f" ({len(r.home)} sessions)",
              f"exceptions: {len(r.exceptions)}" + (f", first: {r.exceptions[0][:200]}" if r.exceptions else ""),
              f"st.error: {sum(p.errors for p in r.pages.values())}" + "".join(
                  f"\n  {page}: {text!r}" for page, p in r.pages.items() for text in p.error_texts),
              f"connection errors: {len(r.connection_errors)}" + "".join(f"\n  {e}" for e in r.connection_errors[:5]),
              f"session errors: {len(r.session_errors)}" + "".join(f"\n  {e}" for e in r.session_errors[:5]),
              f"media: {r.media_fetched} fetched, {r.media_failed} failed"
              + (f", {r.media_lost} lost with the killed replica" if r.killed else "")]
    if r.rss_max_mb is not None:
        lines.append(f"server RSS: max {r.rss_max_mb:.0f} MB, at the end {r.rss_last_mb:.0f} MB")
    if any(r.replicas.values()):
        counts = {}
        for name in r.replicas.values():
            counts[name or "(no cookie)"] = counts.get(name or "(no cookie)", 0) + 1
        moved = {f["session"] for f in r.failovers}
        kept = sum(r.replicas_end.get(i) == name for i, name in r.replicas.items() if i not in moved)
        lines.append("replicas (sticky cookie at the start): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                     + f"; {kept} of {len(r.replicas) - len(moved)} sessions without a failover ended on the replica they began on")
    if r.killed:
        lines.append(f"killed pid {r.killed['pid']}; sessions that kept their connection: {len(r.fault_moves)} "
                     f"moves after the kill, p50 {ms(r.fault_moves, .5).strip()} ms, p95 {ms(r.fault_moves, .95).strip()} "
                     f"ms, max {ms(r.fault_moves, 1).strip()} ms")
    if r.failovers:
        secs = [f["seconds"] for f in r.failovers]
        moved = {}
        for f in r.failovers:
            moved[f"{f['from']} → {f['to']}"] = moved.get(f"{f['from']} → {f['to']}", 0) + 1
        lines.append(f"failovers: {len(r.failovers)} sessions ({', '.join(f'{k}: {v}' for k, v in moved.items())}); "
                     f"drop → first run answered on the new replica: {pct(secs, .5):.2f} s median, {max(secs):.2f} s max; exceptions "
                     f"after: {sum(len(f['exceptions']) for f in r.failovers)}; first error: {r.failovers[0]['error']}")
    if r.jobs.home or r.jobs.presses:
        lines += report_jobs(r.jobs)
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a server already running, e.g. http://127.0.0.1:8501")
    where.add_argument("--serve", action="store_true", help="start `streamlit run app.py` on a free port, stop it after")
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10, help="seconds of slider moves per session")
    p.add_argument("--pages", default="denoising", help=f"comma-separated, of: {','.join(SLIDERS)}")
    p.add_argument("--home-seconds", type=float, default=0, help="seconds on home before the first click")
    p.add_argument("--stagger", type=float, default=0, help="seconds between session starts")
    p.add_argument("--think", type=float, default=0, help="pause between moves (0: next move at once, worst case)")
    p.add_argument("--pid", type=int, help="server pid, for RSS (with --serve: the spawned server)")
    p.add_argument("--rounds", type=int, default=1, help="repeat the whole run against the same server")
    p.add_argument("--timeout", type=float, default=60, help="seconds a rerun may take before the session gives up")
    p.add_argument("--no-media", dest="media", action="store_false", help="do not fetch /media files")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=0,
                   help="extra sessions (beyond --sessions) pressing the ResNet race for --seconds; not in the slider table")
    p.add_argument("--job-steps", type=int, default=200, help="the race's training steps (50..400, step 50)")
    p.add_argument("--job-timeout", type=float, default=600, help="seconds one job run may take (not --timeout)")
    p.add_argument("--json", help="write the raw results here")
    p.add_argument("--sticky-cookie", default="LAB", help="the load balancer's cookie naming the replica")
    p.add_argument("--kill", metavar="PIDFILE", help="SIGKILL the process in PIDFILE (e.g. a replica) mid-run")
    p.add_argument("--kill-after", type=float, default=30, help="seconds into the run for --kill")
    p.add_argument("--arrive-after", type=float, default=0,
                   help="seconds the server stands with nobody on it before the sessions arrive (with --serve: from "
                        "when it first answers /_stcore/health): a class arriving at once on a server nobody opened")
    a = p.parse_args(argv)
    pages = [x.strip() for x in a.pages.split(",") if x.strip()]
    if unknown := set(pages) - set(SLIDERS):
        p.error(f"no slider known for {sorted(unknown)}; pages: {','.join(SLIDERS)}")
    if not (50 <= a.job_steps <= 400 and a.job_steps % 50 == 0):
        p.error("--job-steps: 50..400, a multiple of 50 (the slider's range and step)")

    def rounds(url, pid, log=None):
        results = []
        if a.arrive_after:
            print(f"nobody on the server for {a.arrive_after:g} s, then all sessions arrive")
            time.sleep(a.arrive_after)
        print(f"{a.sessions} sessions × {a.seconds:g} s of moves, pages {','.join(pages)}, think {a.think:g} s, "
              f"home {a.home_seconds:g} s, stagger {a.stagger:g} s; server {url}" + (f" (pid {pid})" if pid else "")
              + (f"; {a.jobs} job sessions (ResNet race, {a.job_steps} steps)" if a.jobs else ""))
        for k in range(a.rounds):
            r = asyncio.run(run(url, a.sessions, a.seconds, pages, a.home_seconds, a.stagger, a.think, pid,
                                a.timeout, a.media, a.seed + k, jobs=a.jobs, job_steps=a.job_steps,
                                job_timeout=a.job_timeout, sticky_cookie=a.sticky_cookie,
                                kill=a.kill if k == 0 else None, kill_after=a.kill_after))
            results.append(r)
            print(f"\nround {k + 1}/{a.rounds}\n" + report(r) if a.rounds > 1 else "\n" + report(r))
        if a.rounds > 1 and pid:
            print("\nRSS after each round (MB): " + ", ".join(f"{r.rss_last_mb:.0f}" for r in results))
        if log:
            text = Path(log).read_text(errors="replace")
            print(f"\nserver log {log}: {text.count('Traceback')} tracebacks")
        if a.json:
            Path(a.json).write_text(json.dumps({"args": vars(a), "rounds": [dataclasses.asdict(r) for r in results]},
                                               indent=1))
        return results

    if a.url:
        rounds(a.url, a.pid)
    else:
        sys.path.insert(0, str(ROOT))
        from tests import browser
        with browser.serve_app_proc(keep_log=True) as (url, _, proc):
            rounds(url, a.pid or proc.pid, proc.log_path)


if __name__ == "__main__":
    main()

"""Shareable links: every page's settings in its URL (`st.query_params`), and a link restores the view.

A page declares its settings as `Param`s (URL key, session-state key, default, parser), then

    link = links.restore("denoising", PARAMS, t)   # before its widgets: a link's values into session state
    ...widgets (keys from session state, never value=)...
    links.finish(PARAMS)                            # at its end: the URL becomes what the page shows

`restore` acts when the page is entered (a link opened, a fresh session, a page switch) and on the browser's
Back and Forward; otherwise it returns at once. A value it cannot use falls back to that setting's default,
and the page names everything it ignored in one line. `finish` keeps the URL bare while the page is as it
opens, and otherwise writes every setting of the page, so a link means the same view even after a default
changes; it writes only when the URL would change (one message to the browser, which adds a history entry:
Back then undoes one change), so a rerun pays a dictionary comparison. A widget inside an `st.fragment` updates
its own keys from inside the fragment (`finish(FRAGMENT_PARAMS, partial=True)`): a fragment's rerun never
reaches the page's end.

Uploads and drawings never go into a URL: only settings do. The language is `lang=…` (`language()`, from
app.py, before the language switch exists). `copy_button` is the sidebar's "Copy link".

The parsers below are plain Python (str → value, ValueError for anything unusable)."""
from __future__ import annotations

import dataclasses
import math
import unicodedata
from typing import Any, Callable, Iterable

import streamlit as st

from core import i18n

PAGE = "_links_page"          # the page this session ran last
WRITTEN = "_links_written"    # the query this session last wrote, or found already right
VIEW = "_links_view"          # the page's settings at its last full run, and as it opens without a link
PENDING = "_links_pending"    # a link's values a page validates later (the anomaly threshold)
BAD_LANG = "_links_bad_lang"  # a lang=… the switch could not take, named by the page
KEPT_LANG = "_links_lang"     # the language of the session's last full run, kept outside the switch's widget state
CHOSEN = "_links_chosen"      # the language switch was used in this run
PAGE_HASH = "_links_hash"     # the page the session's last run asked for (app.py, before the navigation)
LANG = "lang"                 # the language switch's key and the URL's
PRESENT = "present"           # the presenter switch's key and the URL's (ui.style)
KEPT_PRESENT = "_links_present"  # presenter mode as the person last set it, kept outside the switch's widget state
BAD_PRESENT = "_links_bad_present"  # a present=… that is neither true nor false, named by the page
MAX_SHOWN = 40                # characters of a bad value quoted back in the notice


@dataclasses.dataclass(frozen=True)
class Param:
    """One setting in the URL.

    url: its key in the URL; key: its session-state key (a widget's, or a plain value's such as the noise
    seed); default: what the page shows without a link; parse: URL text → value, ValueError when unusable;
    show: value → URL text; when(given): whether a link's value applies, given every valid value the link
    holds (the denoising page's class applies only without an explicit list of digits); sets: more
    session-state values set when this one is restored (the digit mode its presence implies); later: the
    page validates it itself once it knows how (`Link.take`); hidden: not in the URL of the page as it opens
    (the denoising page's explicit digits: its default is the text box's, and the box is not shown)."""
    url: str
    key: str | None
    default: Any
    parse: Callable[[str], Any]
    show: Callable[[Any], str] = str
    when: Callable[[dict], bool] | None = None
    sets: tuple = ()
    later: bool = False
    hidden: bool = False


# ─── Parsers: URL text → value, ValueError when unusable ──────────────────────────────────────────────
def number(lo: float, hi: float, decimals: int = 2) -> Callable[[str], float]:
    """A finite number within [lo, hi], rounded to `decimals`."""
    def parse(text: str) -> float:
        value = round(float(text), decimals)
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"{text!r} is not between {lo} and {hi}")
        return value
    return parse


def show_number(decimals: int = 2) -> Callable[[float], str]:
    """0.8 → "0.8", 0.85 → "0.85", 1.0 → "1", -0.0 → "0"."""
    def show(value) -> str:
        text = f"{round(float(value), decimals):.{decimals}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return "0" if text in ("-0", "") else text
    return show


def exact(lo: float, hi: float) -> Callable[[str], float]:
    """A finite number within [lo, hi], kept exactly (a threshold: the shortest text that reads back the same)."""
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"{text!r} is not between {lo} and {hi}")
        return value
    return parse


def show_exact(value) -> str:
    return repr(float(value))


def integer(lo: int, hi: int) -> Callable[[str], int]:
    """A whole number within [lo, hi] ("3", not "3.5" nor "three")."""
    def parse(text: str) -> int:
        value = int(text.strip())
        if not lo <= value <= hi:
            raise ValueError(f"{text!r} is not between {lo} and {hi}")
        return value
    return parse


def choice(options: Iterable) -> Callable[[str], Any]:
    """One of `options`, written as str(option): "salt_and_pepper", "64", "3"."""
    by_text = {str(o): o for o in options}

    def parse(text: str):
        if text not in by_text:
            raise ValueError(f"{text!r} is not one of {sorted(by_text)}")
        return by_text[text]
    return parse


def flag(text: str) -> bool:
    """true/false (also 1/0, yes/no, on/off)."""
    value = {"true": True, "1": True, "yes": True, "on": True,
             "false": False, "0": False, "no": False, "off": False}.get(text.strip().lower())
    if value is None:
        raise ValueError(f"{text!r} is neither true nor false")
    return value


def show_flag(value) -> str:
    return "true" if value else "false"


def _items(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


class PartlyUsed(ValueError):
    """A link's value of which a part could be used (`value`) and the rest not (`rest`, named as ignored)."""

    def __init__(self, value, rest: str):
        super().__init__(rest)
        self.value, self.rest = value, rest


def choices(options: Iterable, least: int = 0, most: int | None = None,
            drop_unknown: bool = False) -> Callable[[str], list]:
    """Several of `options`, comma-separated, each once, in the order given; "" is none at all. drop_unknown: the
    items that are not options are left out and named (PartlyUsed), the others kept: a link's "yours" opened in
    another session loses that model only."""
    by_text = {str(o): o for o in options}

    def parse(text: str) -> list:
        items = _items(text)
        unknown = [s for s in items if s not in by_text]
        if drop_unknown and unknown and len(unknown) < len(items):
            kept = parse(",".join(s for s in items if s in by_text))
            raise PartlyUsed(kept, ",".join(unknown))
        if unknown or len(set(items)) != len(items):
            raise ValueError(f"{text!r}: unknown or repeated")
        if len(items) < least or (most is not None and len(items) > most):
            raise ValueError(f"{text!r}: {len(items)} chosen")
        return [by_text[s] for s in items]
    return parse


def integers(lo: int, hi: int, least: int = 1, most: int | None = None) -> Callable[[str], list[int]]:
    """Whole numbers within [lo, hi], comma-separated: "3,5,8"."""
    def parse(text: str) -> list[int]:
        values = [int(s) for s in _items(text)]
        if len(values) < least or (most is not None and len(values) > most):
            raise ValueError(f"{text!r}: {len(values)} numbers")
        if any(not lo <= v <= hi for v in values):
            raise ValueError(f"{text!r}: outside {lo}..{hi}")
        return values
    return parse


def show_list(values) -> str:
    return ",".join(str(v) for v in values)


# ─── Restore and finish ───────────────────────────────────────────────────────────────────────────────
def _history_navigation() -> bool:
    """Whether this run answers the browser's Back or Forward (the URL then holds the view to show)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return bool(getattr(get_script_run_ctx(), "is_history_navigation", False))


def plain(text, limit: int = MAX_SHOWN) -> str:
    """Text that came from outside (a link's key or value, a file's name), safe to put in a message: one line,
    at most `limit` characters, with control and format characters (bidi overrides, zero-widths) dropped and
    no backtick left, so that inside a code span nothing of it can be read as markdown or HTML."""
    text = "".join(" " if c.isspace() else c for c in str(text)
                   if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs", "Cn"))
    text = " ".join(text.replace("`", "'").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _quoted(key: str, raw: str) -> str:
    # Inside a code span markdown is not read: no heading, link, image or :red[…] can come of a link's text.
    return f"`{plain(key, MAX_SHOWN)}={plain(raw, MAX_SHOWN)}`"


class Link:
    """What `restore` found: the settings it ignored (named in one line) and where that line is."""

    def __init__(self, t, ignored=(), restored=None):
        self.t, self.ignored, self.restored = t, list(ignored), dict(restored or {})
        self._notice = None
        if self.ignored:
            self._notice = st.empty()
            self._say()

    def _say(self):
        if self._notice is None:
            self._notice = st.empty()
        self._notice.warning(self.t("links.ignored", items=" · ".join(_quoted(k, v) for k, v in self.ignored)),
                             icon=":material/link_off:")

    def take(self, url: str, key: str, parse: Callable[[str], Any]) -> bool:
        """A setting the page validates itself once it can (the anomaly threshold against the scores' range):
        the link's value into `key`, or named as ignored. True when a value was set."""
        pending = st.session_state.get(PENDING)
        if not pending or url not in pending:
            return False
        raw = pending.pop(url)
        try:
            st.session_state[key] = parse(raw)
        except (ValueError, TypeError, OverflowError):
            self.ignored.append((url, raw))
            self._say()
            return False
        return True


def language() -> bool:
    """app.py, before the language switch is made: on a session's first run the URL's lang=… sets it, and on
    Back and Forward a lang=… the URL names. (A URL without one keeps the language: the browser's own entry
    for a page just switched to has no query at all.) True when that changed the language of a running
    session.

    On a switch of page the session's language is set again from its last run, unless the person just chose
    one (`chosen`, the switch's on_change): the browser sends no widget states with such a switch from home
    opened at "/", and the switch would fall back to English."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ss = st.session_state
    chosen = ss.pop(CHOSEN, False)
    first = LANG not in ss and KEPT_LANG not in ss
    page = getattr(get_script_run_ctx(), "page_script_hash", None)
    moved, ss[PAGE_HASH] = ss.get(PAGE_HASH, page) != page, page
    history = not first and _history_navigation()
    raw = st.query_params.get(LANG) if first or history else None
    if raw is not None and raw not in i18n.LANGUAGES:
        if first:
            ss[BAD_LANG] = raw
        raw = None
    if raw is None:
        if moved and not chosen and KEPT_LANG in ss:
            ss[LANG] = ss[KEPT_LANG]
        return False
    changed = not first and ss.get(LANG) != raw
    ss[LANG] = raw
    return changed


def chosen():
    """The language switch's on_change: this run's language is the person's choice."""
    st.session_state[CHOSEN] = True


def presenter():
    """app.py, before the presenter switch is made: its value for this run. A link's present=… counts on a
    session's first run and on Back and Forward (a URL without one keeps the mode, as with the language);
    otherwise the mode is what the person last set (`presented`), so a page switch, which may come without the
    switch's widget state, never drops it."""
    ss = st.session_state
    first = KEPT_PRESENT not in ss
    raw = st.query_params.get(PRESENT) if first or _history_navigation() else None
    if raw is not None:
        try:
            ss[KEPT_PRESENT] = flag(raw)
        except ValueError:
            ss[BAD_PRESENT] = raw
    ss[PRESENT] = ss.setdefault(KEPT_PRESENT, False)


def presented():
    """The presenter switch's on_change: the person's own choice, kept for the runs after."""
    st.session_state[KEPT_PRESENT] = bool(st.session_state[PRESENT])


def restore(page: str, params: Iterable[Param], t) -> Link:
    """A link's settings into session state, before the page's widgets exist.

    Acts when the page is entered with a URL this session did not write itself (a link opened, a fresh
    session), and on Back and Forward; then every setting of the page takes the link's value or, where the
    link has none or a bad one, its default. Otherwise returns at once. The Link's notice names what was
    ignored."""
    ss = st.session_state
    entered = ss.get(PAGE) != page
    ss[PAGE] = page
    history = _history_navigation()
    if not (entered or history):
        return Link(t)
    ss[PENDING] = {}
    query = st.query_params.to_dict()
    bad_lang, bad_present = ss.pop(BAD_LANG, None), ss.pop(BAD_PRESENT, None)
    if not history and (not query or query == ss.get(WRITTEN)):
        return Link(t)  # a bare URL, or the one the page before wrote: nothing to restore
    params = list(params)
    by_url = {p.url: p for p in params}
    ignored = [(k, v) for k, v in ((LANG, bad_lang), (PRESENT, bad_present)) if v is not None]
    given, pending = {}, {}
    for key, raw in query.items():
        p = by_url.get(key)
        if key in (LANG, PRESENT):  # app.py's, not the page's
            continue
        if p is None:
            ignored.append((key, raw))
        elif p.later:
            pending[key] = raw
        else:
            try:
                given[key] = p.parse(raw)
            except PartlyUsed as part:
                given[key] = part.value
                ignored.append((key, part.rest))
            except (ValueError, TypeError, OverflowError):
                ignored.append((key, raw))
    restored = {}
    for p in params:
        if p.key is None or p.later:
            continue
        if p.url in given and (p.when is None or p.when(given)):
            ss[p.key] = restored[p.url] = given[p.url]
            for key, value in p.sets:
                ss[key] = value
        else:
            if p.url in given:  # a good value the rest of the link overrides: not shown, so named
                ignored.append((p.url, query[p.url]))
            ss[p.key] = list(p.default) if isinstance(p.default, list) else p.default
    ss[PENDING] = pending
    return Link(t, ignored, restored)


def defaults(params: Iterable[Param]):
    """Each setting's default into session state where it has none yet: widgets then take their value from
    session state alone (a widget given value= as well as a session-state value logs a warning)."""
    ss = st.session_state
    for p in params:
        if p.key is not None and p.key not in ss:
            ss[p.key] = list(p.default) if isinstance(p.default, list) else p.default


def current(params: Iterable[Param], shown: dict) -> dict:
    """The URL's settings for what the page shows: `shown` first, else session state, else the default;
    a setting whose value is None is left out."""
    ss = st.session_state
    pending = ss.get(PENDING) or {}
    want = {}
    for p in params:
        if p.url in shown:
            value = shown[p.url]
        elif p.key is not None:
            value = ss.get(p.key, p.default)
        else:
            value = p.default
        if value is None and p.later and p.url in pending:  # not judged yet: kept as the link had it
            want[p.url] = pending[p.url]
        elif value is not None:
            want[p.url] = p.show(value)
    return want


def at_defaults(params: Iterable[Param]) -> dict:
    """The URL's settings of the page as it opens without a link."""
    return {p.url: p.show(p.default) for p in params if not p.hidden and p.default is not None}


def _fragment_run() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return bool(getattr(get_script_run_ctx(), "fragment_ids_this_run", None))


def finish(params: Iterable[Param], shown: dict | None = None, partial: bool = False):
    """The URL becomes what the page shows, written only when it differs: nothing while the page is as it
    opens without a link, else every setting of the page (a link then means the same view even if a default
    changes later); lang=… where the language is not the default.

    shown: values by URL key where session state is not what is shown (None: not in the URL). partial: a
    fragment's own settings, from inside the fragment; acts only in the fragment's own reruns (in a full run
    the page's finish at its end writes them)."""
    ss = st.session_state
    params = tuple(params)
    want = current(params, shown or {})
    if partial:
        if not _fragment_run():
            return
        view, base = ss.get(VIEW) or ({}, {})
        want = {**view, **want}
    else:
        base = at_defaults(params)
    ss[VIEW] = (want, base)
    target = {} if want == base else dict(want)
    lang = ss[KEPT_LANG] = ss.get(LANG, i18n.DEFAULT_LANGUAGE)
    if lang != i18n.DEFAULT_LANGUAGE:
        target[LANG] = lang
    if ss.get(KEPT_PRESENT):
        target[PRESENT] = "1"
    qp = st.query_params
    if target != qp.to_dict():
        qp.from_dict(target)
    ss[WRITTEN] = target


def stop(params: Iterable[Param], shown: dict | None = None):
    """finish, then st.stop(): a page that stops early still has the URL it shows."""
    finish(params, shown)
    st.stop()


# ─── The sidebar's "Copy link" ────────────────────────────────────────────────────────────────────────
COPY_HTML = """<button type="button" class="copy"><svg viewBox="0 0 24 24" aria-hidden="true"><path
d="M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8v2zm9-6h-4v1.9h4a3.1
3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z"/></svg><span class="label"></span></button>"""
COPY_CSS = """
.copy { display: inline-flex; align-items: center; gap: .45rem; padding: .3rem .8rem; min-height: 2.4rem;
  font: inherit; font-size: .95rem; line-height: 1.4; cursor: pointer; border-radius: .5rem;
  color: var(--st-text-color, #1f2a36); background: var(--st-background-color, #fff);
  border: 1px solid rgba(49, 51, 63, .2); }
.copy:hover { border-color: var(--st-primary-color, #3b6ea5); color: var(--st-primary-color, #3b6ea5); }
.copy:focus-visible { outline: 2px solid var(--st-primary-color, #3b6ea5); outline-offset: 1px; }
.copy svg { width: 1.1rem; height: 1.1rem; fill: currentColor; flex: none; }
.copy.done { border-color: #2e7d32; color: #2e7d32; }
"""
# navigator.clipboard exists only in a secure context (https, localhost); a lab served over plain http on
# a classroom network has none, so a hidden textarea and document.execCommand("copy") take over, and as a
# last resort a prompt shows the link to copy by hand.
COPY_JS = """
function copyByCommand(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.cssText = "position:fixed;top:0;left:0;width:1px;height:1px;opacity:0;";
  document.body.appendChild(area);
  area.focus();
  area.select();
  area.setSelectionRange(0, text.length);
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  document.body.removeChild(area);
  return ok;
}

export default function (component) {
  const { data, parentElement } = component;
  // The page's language, for the browser's line breaking (ui.style: Japanese breaks between phrases) and for
  // screen readers; Streamlit's page says "en" whatever is shown.
  if (data.lang) document.documentElement.lang = data.lang;
  const button = parentElement.querySelector("button.copy");
  const label = parentElement.querySelector(".label");
  if (!button.dataset.busy) label.textContent = data.label;
  button.title = data.help;
  button.onclick = async () => {
    const url = window.location.href;
    let ok = false;
    if (window.isSecureContext && navigator.clipboard && navigator.clipboard.writeText) {
      try { await navigator.clipboard.writeText(url); ok = true; } catch (e) { ok = false; }
    }
    if (!ok) ok = copyByCommand(url);
    button.focus();
    if (!ok) { window.prompt(data.manual, url); return; }
    button.dataset.busy = "1";
    button.classList.add("done");
    label.textContent = data.done;
    clearTimeout(button.timer);
    button.timer = setTimeout(() => {
      delete button.dataset.busy;
      button.classList.remove("done");
      label.textContent = data.label;
    }, 2000);
  };
}
"""
_copy_component = None


def copy_button(t):
    """The sidebar's "Copy link": copies the page's URL as the browser has it at the click (all in the browser;
    the click reruns nothing)."""
    global _copy_component
    if _copy_component is None:
        import streamlit.components.v2 as components

        _copy_component = components.component("lab_copy_link", html=COPY_HTML, css=COPY_CSS, js=COPY_JS)
    with st.sidebar:
        _copy_component(data={"label": t("links.copy"), "done": t("links.copied"), "help": t("links.copy_help"),
                              "manual": t("links.copy_manual"),
                              "lang": st.session_state.get(LANG, i18n.DEFAULT_LANGUAGE)}, key="copy_link", width="content")

"""How the lab looks in front of a class: presenter mode, Japanese line breaks, and charts that keep up.

Presenter mode is one switch in the sidebar (and `present=1` in a link, kept across pages like the language):
the lab is then read from the back of a room on a projector, so text, captions and pictures grow, and captions
lose their pale grey, which a projector washes out. Streamlit sizes nearly everything in rem, so one root size
enlarges text, widgets and spacing together; charts draw their own text and get bigger fonts through `chart`.

Japanese has no spaces between words, and narrow columns broke words anywhere (オートエンコー/ダ). The page
says it is Japanese (the sidebar's component sets <html lang>, ui.links.copy_button) and breaks between phrases
(`word-break: auto-phrase`, Chromium's phrase segmenter for ja), or between spaces and punctuation where a browser
has no segmenter (`keep-all`); a run longer than its line still wraps rather than overflow."""
from __future__ import annotations

import copy

import streamlit as st

KEY = "present"  # the switch's session-state key and the link's
SCALE = 1.3  # presenter mode's text size against the usual 16 px
# A phone is held at arm's length, not read from the back of a room: a student following a presenter link on one
# gets a little more, not 1.3x, which broke Japanese titles inside a phrase at 390 px.
NARROW_SCALE = 1.1

BASE_CSS = """
html[lang="ja"] .stApp { word-break: keep-all; overflow-wrap: anywhere; line-break: strict; }
@supports (word-break: auto-phrase) { html[lang="ja"] .stApp { word-break: auto-phrase; } }
"""
PRESENTER_CSS = f"""
html {{ font-size: {16 * SCALE:.1f}px !important; }}
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"], [data-testid="stWidgetLabel"] p {{
  color: inherit !important; opacity: 1 !important; font-size: 1rem !important; }}
[data-testid="stImageContainer"] img {{ zoom: {SCALE}; max-width: calc(100% / {SCALE}) !important;
  image-rendering: pixelated; }}
@media (max-width: 640px) {{ html {{ font-size: {16 * NARROW_SCALE:.1f}px !important; }} }}
"""
CHART_FONTS = {"axis": {"labelFontSize": 16, "titleFontSize": 17}, "legend": {"labelFontSize": 16, "titleFontSize": 16},
               "header": {"labelFontSize": 16, "titleFontSize": 17}, "title": {"fontSize": 18}, "text": {"fontSize": 16}}


def on() -> bool:
    return bool(st.session_state.get(KEY, False))


def install():
    """This run's page styles: style-only HTML, which Streamlit puts in its event container, taking no space."""
    st.html(f"<style>{BASE_CSS}{PRESENTER_CSS if on() else ''}</style>")


def chart(spec: dict) -> dict:
    """A Vega-Lite spec as this session shows it: in presenter mode with fonts a projector can carry (a copy; the
    cached spec is never changed)."""
    if not on():
        return spec
    out = copy.copy(spec)
    config = dict(out.get("config") or {})
    for part, fonts in CHART_FONTS.items():
        config[part] = {**fonts, **config.get(part, {})}
    out["config"] = config
    return out

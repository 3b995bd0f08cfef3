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

# Phrase breaks on every element, not only the app's root: Streamlit gives headings and paragraphs their own
# `break-word`, which beat an inherited value and broke words anywhere. A Japanese page title is often one phrase
# (ノイズ除去オートエンコーダ) wider than a phone at the usual title size: on a phone it is set smaller.
# Links, buttons and metrics wrap their labels rather than cut them ("N…", "Reconstru…", "…on the ResNet pa"); a
# metric's English label wraps between words only ("Reconstructio/n" read worse than the cut).
BASE_CSS = """
html[lang="ja"] .stApp, html[lang="ja"] .stApp * { word-break: keep-all !important; overflow-wrap: anywhere;
  line-break: strict; }
@supports (word-break: auto-phrase) { html[lang="ja"] .stApp, html[lang="ja"] .stApp * {
  word-break: auto-phrase !important; } }
@media (max-width: 640px) { html[lang="ja"] h1 { font-size: 1.5rem !important; } }
[data-testid="stPageLink"] span:has(> [data-testid="stMarkdownContainer"]),
[data-testid^="stBaseButton"] div:has(> [data-testid="stMarkdownContainer"]),
:is([data-testid="stPageLink"], [data-testid^="stBaseButton"], [data-testid="stMetric"]) [data-testid="stMarkdownContainer"],
:is([data-testid="stPageLink"], [data-testid^="stBaseButton"], [data-testid="stMetric"]) [data-testid="stMarkdownContainer"] p {
  white-space: normal !important; }
html:not([lang="ja"]) [data-testid="stMetric"] [data-testid="stMarkdownContainer"] p {
  overflow-wrap: normal !important; word-break: normal !important; }
"""
PRESENTER_CSS = f"""
html {{ font-size: {16 * SCALE:.1f}px !important; }}
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"], [data-testid="stWidgetLabel"] p {{
  color: inherit !important; opacity: 1 !important; font-size: 1rem !important; }}
/* The page's side margins keep their usual pixels (Streamlit's, either side of its 864 px breakpoint): grown with the
   text they narrowed every column, and a picture that fills its column came out smaller than without the switch */
[data-testid="stMainBlockContainer"] {{ padding-left: 16px !important; padding-right: 16px !important; }}
@media (min-width: 864px) {{ [data-testid="stMainBlockContainer"] {{ padding-left: 80px !important;
  padding-right: 80px !important; }} }}
/* a zoomed image still stops at its column's width (Chromium does not zoom percentages) */
[data-testid="stImageContainer"] img {{ zoom: {SCALE}; max-width: 100% !important; image-rendering: pixelated; }}
/* Graphviz sized each box for its labels at the usual size, and Streamlit sets their text in rem: kept at the usual
   size, or "GlobalAveragePooling2D" runs out of its box */
[data-testid="stGraphVizChart"] svg text {{ font-size: 9.6px !important; }}
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
    """A Vega-Lite spec as this session shows it: in presenter mode with fonts a projector can carry, and as much
    taller, since a chart's height also holds its axis titles and legend (a copy; the cached spec is never changed)."""
    if not on():
        return spec
    out = copy.copy(spec)
    if isinstance(out.get("height"), (int, float)):
        out["height"] = round(out["height"] * SCALE)
    config = dict(out.get("config") or {})
    for part, fonts in CHART_FONTS.items():
        config[part] = {**fonts, **config.get(part, {})}
    out["config"] = config
    return out

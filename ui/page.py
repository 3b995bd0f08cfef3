"""What every page does first."""
from __future__ import annotations

import streamlit as st

from core import i18n
from ui import warmup


def setup(warm: str | None = "imports"):
    """The deep-link guard, then the warm-up this page needs, then the page's translator.

    A deep link opened before app.py ever ran in this server makes Streamlit run the page alone, in its
    legacy pages/ mode; switch that mode off and rerun, so app.py (layout, language, menu) routes it.

    `warm`: the part of the background warm-up (ui.warmup.ORDER) the page waits for, under a spinner,
    before it draws: TensorFlow's imports at least, since importing it on two threads at once deadlocks;
    None for home, which never needs TensorFlow."""
    if "lang" not in st.session_state:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    t = i18n.translator(st.session_state.get("lang", i18n.DEFAULT_LANGUAGE))
    if warm is not None:
        warmup.start()
        if not warmup.ready(warm):
            with st.spinner(t("warmup.spinner")):
                warmup.wait(warm)
    return t

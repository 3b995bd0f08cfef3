"""What every page does first."""
from __future__ import annotations

import streamlit as st

from core import i18n


def setup():
    """The deep-link guard, then the page's translator.

    A deep link opened before app.py ever ran in this server makes Streamlit run the page alone, in its
    legacy pages/ mode; switch that mode off and rerun, so app.py (layout, language, menu) routes it."""
    if "lang" not in st.session_state:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return i18n.translator(st.session_state.get("lang", i18n.DEFAULT_LANGUAGE))

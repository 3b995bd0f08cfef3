"""Unsupervised Lab: page config, the language switch and the navigation — nothing else."""
from pathlib import Path

import streamlit as st

from core import i18n

ROOT = Path(__file__).resolve().parent

st.set_page_config(page_title="Unsupervised Lab", page_icon="🧪", layout="wide")

lang = st.sidebar.selectbox("Language / 言語", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="lang")
t = i18n.translator(lang)

pages = [st.Page(ROOT / "pages" / "home.py", title=t("page.home.title"), icon=":material/home:", default=True)]
pages += [st.Page(ROOT / "pages" / f"{slug}.py", title=t(f"page.{slug}.title"), icon=icon, url_path=slug)
          for slug, icon in i18n.available_pages(ROOT)]
st.navigation(pages).run()

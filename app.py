"""Unsupervised Lab: page config, the language switch, the navigation, and the process warm-up.

`streamlit run app.py` finds `app` below before it serves (a module-level `st.App`): the server then warms up as
it starts (ui.warmup.lifespan), sends the lab's security headers (ui.serving.Guard), and stops the warm-up
before it exits. Each session runs this file as its page script (`__name__ == "__main__"`), AppTest too."""
from pathlib import Path

import streamlit as st

from core import i18n
from ui import links, serving, style, warmup

ROOT = Path(__file__).resolve().parent
app = st.App("app.py", lifespan=warmup.lifespan, middleware=serving.MIDDLEWARE)

# Choices whose labels are translated (the pages' keyed radios, selects and multiselects).
TRANSLATED_CHOICES = ("noise_kind", "digit_mode", "models", "score_kind", "arch_model", "rn_view", "rn_bn_mode",
                      "digit_source", "digit_noise_kind", "digit_ink", "cl_rep", "cl_method",
                      "tr_start", "tr_bottleneck", "tr_noise", "tr_lr", "tr_data", "tr_inside_model")


def relabel_choices():
    """A keyed choice keeps its value across a language switch, but the browser still holds the old
    labels and would show nothing selected; writing each value back makes Streamlit resend it."""
    for key in TRANSLATED_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def switched():
    links.chosen()  # the person's choice: kept across pages (ui/links.py: language)
    # Written back as the person's own value, not only the widget's: on a session's first run at "/", Streamlit
    # gives the switch another widget id than on the runs after (the main script's hash differs), and the new id
    # would start from its default, losing this first pick.
    st.session_state.lang = st.session_state.lang
    relabel_choices()


def main():
    st.set_page_config(page_title="Unsupervised Lab", page_icon="🧪", layout="wide")
    serving.install()  # once per process: see ui/serving.py
    if links.language():  # lang=… from the URL: a link's language, or Back and Forward across a switch
        relabel_choices()
    lang = st.sidebar.selectbox("Language / 言語", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="lang",
                                on_change=switched)
    t = i18n.translator(lang)
    links.presenter()  # present=1 from a link, or the mode the person last set
    st.sidebar.toggle(t("presenter"), key=links.PRESENT, on_change=links.presented, help=t("presenter_help"))
    style.install()  # presenter mode's sizes, Japanese line breaks
    links.copy_button(t)  # every page's "Copy link", in the sidebar under the language

    pages = [st.Page(ROOT / "pages" / "home.py", title=t("page.home.title"), icon=":material/home:", default=True)]
    pages += [st.Page(ROOT / "pages" / f"{slug}.py", title=t(f"page.{slug}.title"), icon=icon, url_path=slug)
              for slug, icon in i18n.available_pages(ROOT)]
    st.navigation(pages).run()  # a page waits for its part of the warm-up itself (ui.page.setup)
    # Started with the server already (the lifespan); without one (AppTest), after home's run, so the first page
    # anyone sees is not slowed by it.
    warmup.start(delay=0.5)


if __name__ == "__main__":
    main()

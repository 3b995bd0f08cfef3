"""Architectures: the functional API beside Sequential (the seed's first model, built both ways), and the
summary and diagram of every model in the lab."""
from pathlib import Path

import pandas as pd
import streamlit as st

from core import arch, diagrams, i18n, models
from ui import links, page

t = page.setup()
lang = st.session_state["lang"]

FUNCTIONAL_CODE = """\
# The seed: the functional API *connects* layers by calling them
from keras.layers import Input, Conv2D, MaxPooling2D, GlobalAveragePooling2D, Dense
from keras.models import Model

input_img = Input(shape=(28, 28, 1))
x = Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)
x = MaxPooling2D((2, 2), padding='same')(x)
x = Conv2D(32, (3, 3), activation='relu', padding='same')(x)
x = GlobalAveragePooling2D()(x)
x = Dense(256)(x)
output_img = Dense(7)(x)
model1 = Model(input_img, output_img)
model1.summary()
"""
SEQUENTIAL_CODE = """\
# The same network, *stacked* with Sequential
from keras import Input, Sequential
from keras.layers import Conv2D, MaxPooling2D, GlobalAveragePooling2D, Dense

model2 = Sequential([
    Input(shape=(28, 28, 1)),
    Conv2D(16, (3, 3), activation='relu', padding='same'),
    MaxPooling2D((2, 2), padding='same'),
    Conv2D(32, (3, 3), activation='relu', padding='same'),
    GlobalAveragePooling2D(),
    Dense(256),
    Dense(7),
])
model2.summary()
"""


def lab_models() -> dict:
    """Every model in the lab, by name → builder: the seed's, then every trained recipe (they grow)."""
    from core.train import RECIPES

    found = {"functional_example": models.functional_example, "sequential_example": models.sequential_example,
             "resnet_seed": models.resnet}
    found.update({name: r.build for name, r in RECIPES.items()})
    return found


def model_title(name):
    strings = i18n.catalog(lang if lang in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE)
    family, _, digit = name.rpartition("_")
    if digit.isdigit() and f"arch.model.{family}" in strings:  # oneclass_3: the one-class VAE of normal digit 3
        return t(f"arch.model.{family}", digit=digit)
    return next((strings[k] for k in (f"arch.model.{name}", f"model.{name}") if k in strings), name)


@st.cache_resource(show_spinner=False)
def build(name):
    return lab_models()[name]()


@st.cache_data(show_spinner=False)
def facts(name):
    model = build(name)
    rows = arch.summary_rows(model)
    return {"rows": rows, "params": int(model.count_params()), "trainable": arch.trainable_count(model),
            "layers": len(rows), "after_input": sum(r["type"] != "InputLayer" for r in rows),
            "macs": arch.macs(model), "dot": diagrams.layer_dot(model)}


@st.cache_data(show_spinner=False)
def same(a, b):
    return arch.same_network(build(a), build(b))


@st.cache_data(show_spinner=False, max_entries=16)
def rendered(dot, fmt):
    return diagrams.render(dot, fmt)


def summary_table(rows):
    """As model.summary() prints it, "conv16 (Conv2D)" in one column: with the type in a column of its own, the
    parameters were past the edge of a phone, or of a half-page column in presenter mode."""
    df = pd.DataFrame({t("arch.col.layer"): [f"{r['layer']} ({r['type']})" for r in rows],
                       t("arch.col.output"): [r["output shape"] for r in rows],
                       t("arch.col.params"): [r["parameters"] for r in rows]})
    st.dataframe(df, hide_index=True, width="stretch",
                 # px that fit a 390 px phone whole, presenter mode's larger text included: a long "gap
                 # (GlobalAveragePooling2D)" is cut in its cell rather than push the parameters off the screen
                 column_config={t("arch.col.layer"): st.column_config.TextColumn(width=165),
                                t("arch.col.output"): st.column_config.TextColumn(width=95),
                                t("arch.col.params"): st.column_config.NumberColumn(format="localized")})


def downloads(name, dot, where, section):
    """DOT, SVG and PNG buttons; `section` keeps their keys apart when a model is shown twice. A click reruns
    nothing: a rerun replaces the SVG/PNG buttons' deferred files, and a second click landing during it got no file."""
    c1, c2, c3 = where.columns(3)
    c1.download_button(t("arch.download_dot"), dot, file_name=f"{name}.dot", mime="text/vnd.graphviz",
                       icon=":material/download:", key=f"dl_dot_{section}_{name}", on_click="ignore")
    if diagrams.dot_available():
        c2.download_button("SVG", lambda: rendered(dot, "svg"), file_name=f"{name}.svg", mime="image/svg+xml",
                           icon=":material/download:", key=f"dl_svg_{section}_{name}", on_click="ignore")
        c3.download_button("PNG", lambda: rendered(dot, "png"), file_name=f"{name}.png", mime="image/png",
                           icon=":material/download:", key=f"dl_png_{section}_{name}", on_click="ignore")
    else:
        where.caption(t("arch.no_dot"))


st.title(t("arch.title"))
st.caption(t("arch.lead"))
names = list(lab_models())
LINK = (links.Param("model", "arch_model", "resnet_seed", links.choice(names)),)
links.restore("architectures", LINK, t)
links.defaults(LINK)

# ─── One network, two ways ───────────────────────────────────────────────────────────────────────────
st.header(t("arch.two_ways"))
st.markdown(t("arch.two_ways_lead"))
with st.spinner(t("arch.building")):
    fn, sq = facts("functional_example"), facts("sequential_example")
left, right = st.columns(2)
for col, f, code, key in ((left, fn, FUNCTIONAL_CODE, "functional"), (right, sq, SEQUENTIAL_CODE, "sequential")):
    with col:
        st.subheader(t(f"arch.{key}"))
        st.code(code, language="python", wrap_lines=True)
        summary_table(f["rows"])
        st.caption(t("arch.totals", params=f"{f['params']:,}", trainable=f"{f['trainable']:,}", layers=f["after_input"]))
if same("functional_example", "sequential_example"):
    st.success(t("arch.same", params=f"{fn['params']:,}"), icon=":material/check_circle:")
else:
    st.error(t("arch.not_same"))
with st.expander(t("arch.functional_diagram"), expanded=True):
    c1, c2 = st.columns([1, 2])
    with c1:
        st.graphviz_chart(fn["dot"], width="content")
    with c2:
        st.markdown(t("arch.diagram_reading"))
        downloads("functional_example", fn["dot"], c2, "two_ways")

DIAGRAM_HEIGHT = 640  # px: a tall diagram's scrolling box
BOXED_LAYERS = 24  # more layers than this draw taller than a screen

# ─── Every model in the lab ──────────────────────────────────────────────────────────────────────────
st.header(t("arch.picker_title"))
choice = st.selectbox(t("arch.picker"), names, key="arch_model", format_func=lambda n: f"{model_title(n)}  ·  {n}")
with st.spinner(t("arch.building")):
    f = facts(choice)
m = st.columns(4)
m[0].metric(t("arch.params"), f"{f['params']:,}")
m[1].metric(t("arch.trainable"), f"{f['trainable']:,}")
m[2].metric(t("arch.layers"), f["layers"])
m[3].metric(t("arch.macs"), arch.fmt_count(f["macs"]), help=t("arch.macs_help"))
tab_diagram, tab_summary = st.tabs([t("arch.tab_diagram"), t("arch.tab_summary")])
with tab_diagram:
    downloads(choice, f["dot"], st, "picker")
    st.caption(t("arch.legend"))
    # A deep model's diagram (the seed's ResNet: ~7,000 px) scrolls in its own box, so the page stays a page.
    with st.container(height=DIAGRAM_HEIGHT) if f["layers"] > BOXED_LAYERS else st.container():
        st.graphviz_chart(f["dot"], width="content")
with tab_summary:
    summary_table(f["rows"])
if choice == "resnet_seed":
    st.page_link(str(Path(__file__).resolve().parent / "resnet.py"), label=t("arch.to_resnet"), icon=":material/arrow_forward:")

links.finish(LINK)

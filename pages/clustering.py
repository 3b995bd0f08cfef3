"""Clustering: 10,000 digits group themselves without a label; then the labels are revealed, and ten of them
make a classifier."""
import numpy as np
import pandas as pd
import streamlit as st

from core import clustering
from ui import links, models, page, style

t = page.setup("clustering")  # waits for its warm-up part
ss = st.session_state

SEED_CODE = """\
# The seed (month 5): the autoencoder's narrow middle holds the digit's features
x = Conv2D(128, (3, 3), activation='relu', padding='same')(x)
encoded = GlobalAveragePooling2D()(x)        # a 128-number code per digit

# What the seed left for later, here: group the codes, with no label
from sklearn.cluster import KMeans
encoder = Model(input_img, encoded)
groups = KMeans(n_clusters=10).fit_predict(encoder.predict(x_test))

# In this lab: core.clustering.fit(points, "kmeans" | "gmm" | "hdbscan", k), on pixels, PCA, the seed's
# code, the VAE's 2-D code or ours; core.clustering.assign(images) is the lab's best clustering.
"""

LINK = (links.Param("rep", "cl_rep", clustering.DEFAULT[0], links.choice(clustering.REPRESENTATIONS)),
        links.Param("method", "cl_method", clustering.DEFAULT[1], links.choice(clustering.METHODS)),
        links.Param("k", "cl_k", clustering.DEFAULT[2], links.integer(*clustering.K_RANGE)),
        links.Param("reveal", "cl_reveal", False, links.flag, links.show_flag))
links.restore("clustering", LINK, t)
links.defaults(LINK)

st.title(t("cl.title"))
st.markdown(t("cl.lead"))
fits = models.cluster_fits()
if fits is None:
    st.warning(t("cl.missing"), icon=":material/warning:")
    links.stop(LINK)

if ss.get("cl_method") is None:  # a second click on the chosen segment unselects it: keep a method
    ss.cl_method = clustering.DEFAULT[1]
c1, c2, c3 = st.columns([2, 3, 2])
c1.selectbox(t("cl.rep"), clustering.REPRESENTATIONS, key="cl_rep", format_func=lambda r: t(f"cl.rep.{r}"))
c2.segmented_control(t("cl.method"), clustering.METHODS, key="cl_method", format_func=lambda m: t(f"cl.method.{m}"),
                     selection_mode="single")
method, rep = ss.cl_method, ss.cl_rep
c3.slider(t("cl.k"), *clustering.K_RANGE, key="cl_k", disabled=method == "hdbscan",
          help=t("cl.k_help_hdbscan") if method == "hdbscan" else t("cl.k_help"))
k = ss.cl_k
weights = tuple(models.sha(name) for name in clustering.MADE_FROM)
clusters = clustering.shipped(fits, rep, method, k)
rows = models.cluster_rows(rep, method, k, weights)
noise = int((clusters < 0).sum())
st.caption(t(f"cl.rep_about.{rep}"))

# ─── 1. The groups, before any label ─────────────────────────────────────────────────────────────────
st.subheader(t("cl.groups", n=len(rows)))
st.markdown(t("cl.groups_lead") + (" " + t("cl.noise", n=f"{noise:,}") if noise else ""))
left, right = st.columns([3, 2])
with left:
    for c, size, picture in rows:
        a, b = st.columns([1, 4], vertical_alignment="center")
        a.markdown(t("cl.group", c=c + 1, size=f"{size:,}"))
        b.image(picture, output_format="PNG")


with right:
    st.vega_lite_chart(style.chart(models.cluster_map_spec(rep, method, k, weights, t("cl.group_axis"),
                                                           t("cl.noise_name"))), width="stretch")
    st.caption(t("cl.map_caption", n=f"{models.CLUSTER_MAP_POINTS:,}", how=t("cl.map_how_vae") if rep == "vae" else t("cl.map_how")))

# ─── 2. Reveal the labels ────────────────────────────────────────────────────────────────────────────
st.divider()
st.toggle(t("cl.reveal"), key="cl_reveal", help=t("cl.reveal_help"))
if not ss.cl_reveal:
    st.info(t("cl.hidden"), icon=":material/visibility_off:")
else:
    found = models.cluster_mistakes(rep, method, k, weights)
    s, mapping = found["scores"], found["mapping"]
    m1, m2, m3 = st.columns(3)
    m1.metric("ACC", f"{s['acc']:.3f}", help=t("cl.acc_help"))
    m2.metric("NMI", f"{s['nmi']:.3f}", help=t("cl.nmi_help"))
    m3.metric("ARI", f"{s['ari']:.3f}", help=t("cl.ari_help"))
    st.markdown(t("cl.reading", acc=f"{s['acc']:.1%}", rep=t(f"cl.rep.{rep}"), method=t(f"cl.method.{method}")))
    counts = found["counts"]
    shown = [c for c, _, _ in rows]
    table = pd.DataFrame(counts[shown], columns=[str(d) for d in range(10)],
                         index=[t("cl.group_row", c=c + 1, d=mapping[c] if c in mapping else "–") for c in shown])
    st.markdown(f"**{t('cl.confusion')}**")
    st.dataframe(table.style.background_gradient(cmap="Blues", axis=1), width="stretch")
    st.markdown(f"**{t('cl.wrong')}**")
    for c in shown:
        if c in found["wrong"]:
            n, picture = found["wrong"][c]
            a, b = st.columns([1, 4], vertical_alignment="center")
            a.markdown(t("cl.wrong_row", c=c + 1, d=mapping[c] if c in mapping else "–", n=f"{n:,}"))
            b.image(picture, output_format="PNG")

    # ─── 3. Label ten digits ─────────────────────────────────────────────────────────────────────────
    st.divider()
    st.subheader(t("cl.label_title", n=len(rows)))
    st.markdown(t("cl.label_lead"))
    x_all, y_all = models.test_digits()
    typical = clustering.shipped_typical(fits, rep, method, k)
    names_key = f"cl_names_{rep}_{method}_{k}"

    def take_true_labels():
        for c, _, _ in rows:
            ss[f"{names_key}_{c}"] = int(y_all[typical[c][0]])

    st.button(t("cl.take_labels"), icon=":material/label:", on_click=take_true_labels)
    per_line = 5
    for start in range(0, len(rows), per_line):
        for col, (c, _, _) in zip(st.columns(per_line), rows[start:start + per_line]):
            col.image(models.tile_png(x_all[typical[c][:1]][..., None] / 255.0, per_line=1, scale=3), output_format="PNG")
            col.selectbox(t("cl.name_group", c=c + 1), [None, *range(10)], key=f"{names_key}_{c}",
                          format_func=lambda d: "?" if d is None else str(d))
    names = {c: ss.get(f"{names_key}_{c}") for c, _, _ in rows}
    named = {c: d for c, d in names.items() if d is not None}
    if named:
        lookup = np.full(max(int(clusters.max()) + 1, 1), -1)
        for c, d in named.items():
            lookup[c] = d
        predicted = np.where(clusters >= 0, lookup[np.maximum(clusters, 0)], -1)
        right = float(np.mean(predicted == y_all))
        supervised = models.manifest().get("classifier", {}).get("metrics", {}).get("accuracy")
        st.metric(t("cl.ten_accuracy", n=len(named)), f"{right:.2%}",
                  help=t("cl.ten_help"))
        st.markdown(t("cl.ten_reading", n=len(named), right=f"{right:.2%}",
                      supervised=f"{supervised:.2%}" if supervised else "–"))
    else:
        st.caption(t("cl.ten_none"))

with st.expander(t("cl.seed_code")):
    st.code(SEED_CODE, language="python")

links.finish(LINK)

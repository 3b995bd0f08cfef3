"""Latent space: the VAE's 2-D map of every test digit, decoding anywhere on it, one digit's negative ELBO and
the encoder's uncertainty about it, new digits from the prior, and why the space is smooth."""
import numpy as np
import streamlit as st

from core import latent, pretrained
from ui import colours, links, models, page, pickers, style

t = page.setup("latent_space")  # waits for its warm-up part
ss = st.session_state
Z_LIMIT = 4.0  # the sliders' range: the prior N(0, I) puts 99.99 % of its mass within ±4


def scatter(z, labels, title, x="z1", y="z2", pick=False, height=420, pictures=True):
    """Vega-Lite spec: one dot per test digit, coloured by its label, its picture in the tooltip.

    The pictures are ~3 MB for 10,000 digits, so only the main map carries them."""
    thumbs = models.thumbnails() if pictures else None
    points = [{x: float(a), y: float(b), "label": str(int(d)), "index": i} for i, ((a, b), d) in enumerate(zip(z, labels))]
    if pictures:
        for point, thumb in zip(points, thumbs):
            point["image"] = thumb
    spec = {
        "height": height, "title": title, "data": {"values": points},
        "mark": {"type": "circle", "size": 9, "opacity": 0.6},
        "encoding": {
            "x": {"field": x, "type": "quantitative", "scale": {"zero": False}},
            "y": {"field": y, "type": "quantitative", "scale": {"zero": False}},
            # every digit in one colour on every map; the legend under the plot, where a phone keeps its width
            "color": colours.digits(t("latent.label")),
            # vega-tooltip draws a field named "image" as the picture itself
            "tooltip": ([{"field": "image"}] if pictures else []) + [
                {"field": "label", "title": t("latent.label")}, {"field": "index", "title": "#"}],
        },
    }
    if pick:
        # A tap is a touchend with no touchmove since its touchstart. The click a tap makes picks nothing (Chromium
        # with touch: Vega finds the item under the pointer as it moves, and a tapping finger does not move), and a
        # finger that scrolls the page across the map must pick nothing (a bare touchend would).
        spec["params"] = [{"name": "pick", "select": {"type": "point", "on": "click, [touchstart, touchmove] > touchend",
                                                      "nearest": True, "fields": ["z1", "z2", "index"]}}]
        # Vega cancels the default of every event it listens to but the wheel: listening to touchstart and
        # touchmove would stop a finger on the map from scrolling the page.
        spec["config"] = {"events": {"defaults": {"allow": ["wheel", "touchstart", "touchmove"]}}}
    return spec


@st.cache_resource(show_spinner=False, max_entries=12)
def map_spec(which, weights_sha, lang):
    """The three maps' specs, built once per language and weights: 10,000 points (3 MB with the VAE map's
    pictures), which Streamlit then sends only when the browser does not have them yet."""
    y_all = models.test_digits()[1]
    if which == "vae":
        return scatter(models.vae_map(weights_sha), y_all, "", pick=True)
    maps = seed_maps()
    if which == "pca":
        return scatter(maps["pca"], y_all, t("latent.pca", share=f"{maps['pca_explained'].sum():.0%}"), "pc1", "pc2",
                       height=340, pictures=False)
    return scatter(maps["tsne"], y_all, t("latent.tsne"), "tsne1", "tsne2", height=340, pictures=False)


@st.cache_data(show_spinner=False, max_entries=2)
def seed_maps():
    return latent.load_maps()


def picked():
    """A click on the map moves the z sliders to that digit's place."""
    chosen = ss.get("latent_map", {}).get("selection", {}).get("pick") or []
    if chosen:
        ss.z1 = float(np.clip(round(chosen[0]["z1"], 2), -Z_LIMIT, Z_LIMIT))
        ss.z2 = float(np.clip(round(chosen[0]["z2"], 2), -Z_LIMIT, Z_LIMIT))


st.title(t("latent.title"))
st.caption(t("latent.lead"))

# Each panel is a fragment and writes its own settings into the URL: a fragment's rerun never reaches the end.
DECODE = (links.Param("z1", "z1", 0.0, links.number(-Z_LIMIT, Z_LIMIT), links.show_number()),
          links.Param("z2", "z2", 0.0, links.number(-Z_LIMIT, Z_LIMIT), links.show_number()))
GRID = (links.Param("grid", "grid_n", 15, links.integer(2, latent.MAX_GRID)),
        links.Param("extent", "grid_extent", 2.0, links.number(0.5, Z_LIMIT), links.show_number()))
INTERPOLATE = (links.Param("from", "interp_a", 3, links.integer(0, 9_999)),
               links.Param("to", "interp_b", 2, links.integer(0, 9_999)),
               links.Param("steps", "interp_steps", 10, links.integer(2, latent.MAX_STEPS)))
DIGIT = (links.Param("digit", "latent_digit", 0, links.integer(0, 9_999)),)
PRIOR = (links.Param("samples", "prior_seed", 0, links.integer(0, 10**9)),)
LINK = DECODE + DIGIT + GRID + PRIOR + INTERPOLATE
links.restore("latent_space", LINK, t)
links.defaults(LINK)

try:
    x_all, y_all = models.test_digits()
    sha = models.sha("vae")
    models.load("vae")  # verified here, so a missing or damaged file is named before anything is drawn
    z_all = models.vae_map(sha)
except (pretrained.PretrainedError, FileNotFoundError) as exc:
    st.error(t("error.model", name=t("model.vae"), detail=str(exc)), icon=":material/error:")
    st.stop()

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(t("latent.map"))
    st.vega_lite_chart(style.chart(map_spec("vae", sha, ss.lang)), key="latent_map", on_select=picked,
                       selection_mode="pick", width="stretch")
    st.caption(t("latent.map_caption", n=f"{len(z_all):,}"))


@st.fragment
def decoder_panel():
    """Only this part reruns when a z slider moves: the map (3 MB with its pictures) is not sent again."""
    st.subheader(t("latent.decode"))
    links.defaults(DECODE)
    z1 = st.slider("z1", -Z_LIMIT, Z_LIMIT, step=0.05, key="z1")
    z2 = st.slider("z2", -Z_LIMIT, Z_LIMIT, step=0.05, key="z2")
    digit_col, map_col = st.columns(2)
    digit_col.image(models.decoded(z1, z2), width=224, output_format="PNG")
    map_col.image(models.located(z1, z2, Z_LIMIT), width=160, output_format="PNG",
                  caption=t("latent.located", lim=f"{Z_LIMIT:g}"))
    nearest = int(np.argmin(((z_all - [z1, z2]) ** 2).sum(axis=1)))
    st.caption(t("latent.nearest", index=nearest, label=int(y_all[nearest])))
    links.finish(DECODE, partial=True)


with right:
    decoder_panel()


def terms_bar(c: dict, mean: float) -> dict:
    """Vega-Lite spec: the negative ELBO as one bar, reconstruction then KL, with the test set's mean marked."""
    recon, kl = t("latent.recon_term"), t("latent.kl_term")
    return {"height": 120, "layer": [  # the height holds the bar, its axis and the legend under them
        {"data": {"values": [{"term": recon, "nats": round(c["recon"], 1), "order": 0},
                             {"term": kl, "nats": round(c["kl"], 1), "order": 1}]},
         "mark": {"type": "bar", "height": 22},
         "encoding": {"x": {"field": "nats", "type": "quantitative", "stack": "zero", "title": t("latent.nats")},
                      "order": {"field": "order"},
                      "color": {"field": "term", "type": "nominal", "sort": [recon, kl], "title": None,
                                "scale": {"range": ["#4c78a8", "#f58518"]}, "legend": {"orient": "bottom"}},
                      "tooltip": [{"field": "term", "title": t("latent.term")},
                                  {"field": "nats", "title": t("latent.nats")}]}},
        {"data": {"values": [{"nats": round(mean, 1), "what": t("latent.test_mean")}]},
         "mark": {"type": "tick", "thickness": 2, "size": 34, "color": "black"},
         "encoding": {"x": {"field": "nats", "type": "quantitative"},
                      "tooltip": [{"field": "what", "title": " "}, {"field": "nats", "title": t("latent.nats")}]}}]}


@st.fragment
def digit_panel():
    """One test digit through the VAE: the negative ELBO's two terms, and how unsure the encoder is where it
    belongs. Picking another digit reruns this part only."""
    st.subheader(t("latent.one_digit"))
    index = pickers.test_digit(t, t("latent.digit"), "latent_digit")
    c = models.close_up(index)
    mean = models.manifest().get("vae", {}).get("metrics", {}).get("neg_elbo")
    pair_col, terms_col, close_col = st.columns([1, 2, 1.1], gap="medium")
    pair_col.image(c["pair"], caption=t("latent.pair_caption"), output_format="PNG")
    with terms_col:
        m1, m2, m3 = st.columns(3)
        shown = "—" if mean is None else f"{mean:.1f}"
        m1.metric(t("latent.recon"), f"{c['recon']:.1f}", help=t("latent.nats_help", mean=shown))
        m2.metric(t("latent.kl"), f"{c['kl']:.1f}", help=t("latent.nats_help", mean=shown))
        # the delta's text starts with its signed number in every language: Streamlit draws the arrow from it
        m3.metric(t("latent.neg_elbo"), f"{c['total']:.1f}", help=t("latent.nats_help", mean=shown),
                  delta=None if mean is None else t("latent.vs_mean", d=f"{c['total'] - mean:+.1f}"),
                  delta_color="inverse")
        if mean is not None:
            st.vega_lite_chart(style.chart(terms_bar(c, mean)), width="stretch")
        st.markdown(t("latent.terms", mean=shown))
    with close_col:
        st.image(c["close_up"], output_format="PNG", width=240,
                 caption=t("latent.close_up_caption", half=f"{c['half']:.2f}"))
    (mu1, mu2), (s1, s2) = c["mean"][:2], c["sigma"][:2]
    st.markdown(t("latent.sigma", m1=f"{mu1:.2f}", m2=f"{mu2:.2f}", s1=f"{s1:.3f}", s2=f"{s2:.3f}", near=c["near"]))
    links.finish(DIGIT, partial=True)


def new_samples():
    ss.prior_seed = int(ss.prior_seed) + 1


@st.fragment
def prior_panel():
    """The VAE as a generator: digits decoded from the prior, a new row only when asked for."""
    st.subheader(t("latent.prior"))
    st.markdown(t("latent.prior_lead"))
    st.button(t("latent.prior_new"), on_click=new_samples, icon=":material/casino:")
    n = models.PRIOR_SAMPLES
    st.image(models.prior_png(sha, n, int(ss.prior_seed)), output_format="PNG",
             caption=t("latent.prior_caption", n=n, seed=int(ss.prior_seed)))
    links.finish(PRIOR, partial=True)


st.divider()
digit_panel()


@st.fragment
def manifold_panel():
    st.subheader(t("latent.manifold"))
    c1, c2 = st.columns(2)
    n = c1.slider(t("latent.grid_n"), 2, latent.MAX_GRID, key="grid_n")
    extent = c2.slider(t("latent.grid_extent"), 0.5, Z_LIMIT, step=0.25, key="grid_extent")
    st.image(models.manifold_png(sha, n, extent), output_format="PNG",
             caption=t("latent.manifold_caption", n=n, lo=f"{-extent:g}", hi=f"{extent:g}"))
    links.finish(GRID, partial=True)


@st.fragment
def interpolation_panel():
    st.subheader(t("latent.interpolate"))
    c1, c2 = st.columns(2, gap="large")
    a = pickers.test_digit(t, t("latent.from"), "interp_a", where=c1)
    b = pickers.test_digit(t, t("latent.to"), "interp_b", where=c2)
    steps = st.slider(t("latent.steps"), 2, latent.MAX_STEPS, key="interp_steps")
    st.image(models.interpolation_png(sha, int(a), int(b), steps), output_format="PNG",
             caption=t("latent.interpolate_caption", a=a, la=int(y_all[a]), b=b, lb=int(y_all[b]), k=steps))
    links.finish(INTERPOLATE, partial=True)


st.divider()
manifold_panel()
prior_panel()
interpolation_panel()
st.divider()
st.subheader(t("latent.compare"))
st.markdown(t("latent.compare_lead"))
if seed_maps() is None:
    st.info(t("latent.maps_missing"))
else:
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(style.chart(map_spec("pca", models.sha("seed_ae"), ss.lang)), width="stretch")
    c2.vega_lite_chart(style.chart(map_spec("tsne", models.sha("seed_ae"), ss.lang)), width="stretch")
    st.caption(t("latent.compare_caption"))

links.finish(LINK)

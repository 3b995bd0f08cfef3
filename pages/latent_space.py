"""Latent space: the VAE's 2-D map of every test digit, decoding anywhere on it, and why it is smooth."""
import numpy as np
import streamlit as st

from core import latent, pretrained
from ui import links, models, page

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
            "color": {"field": "label", "type": "nominal", "scale": {"scheme": "tableau10"},
                      "title": t("latent.label")},
            # vega-tooltip draws a field named "image" as the picture itself
            "tooltip": ([{"field": "image"}] if pictures else []) + [
                {"field": "label", "title": t("latent.label")}, {"field": "index", "title": "#"}],
        },
    }
    if pick:
        spec["params"] = [{"name": "pick", "select": {"type": "point", "on": "click", "nearest": True,
                                                      "fields": ["z1", "z2", "index"]}}]
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
LINK = DECODE + GRID + INTERPOLATE
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
    st.vega_lite_chart(map_spec("vae", sha, ss.lang), key="latent_map", on_select=picked,
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
    c1, c2, c3 = st.columns(3)
    a = c1.number_input(t("latent.from"), 0, len(x_all) - 1, key="interp_a")
    b = c2.number_input(t("latent.to"), 0, len(x_all) - 1, key="interp_b")
    steps = c3.slider(t("latent.steps"), 2, latent.MAX_STEPS, key="interp_steps")
    st.image(models.interpolation_png(sha, int(a), int(b), steps), output_format="PNG",
             caption=t("latent.interpolate_caption", a=a, la=int(y_all[a]), b=b, lb=int(y_all[b]), k=steps))
    links.finish(INTERPOLATE, partial=True)


st.divider()
manifold_panel()
interpolation_panel()
st.divider()
st.subheader(t("latent.compare"))
st.markdown(t("latent.compare_lead"))
if seed_maps() is None:
    st.info(t("latent.maps_missing"))
else:
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(map_spec("pca", models.sha("seed_ae"), ss.lang), width="stretch")
    c2.vega_lite_chart(map_spec("tsne", models.sha("seed_ae"), ss.lang), width="stretch")
    st.caption(t("latent.compare_caption"))

links.finish(LINK)

"""Home: what the lab is, a card per page, and the state of the shipped models. No TensorFlow here."""
from pathlib import Path

import streamlit as st

from core import i18n, pretrained
from ui import links, page

ROOT = Path(__file__).resolve().parent.parent
t = page.setup(None)  # home never imports TensorFlow

st.title(t("home.title"))
st.markdown(t("home.lead"))
links.restore("home", (), t)  # home has no settings: a link names what it ignored (lang=… is app.py's)

pages = i18n.available_pages(ROOT)
for start in range(0, len(pages), 3):
    for col, (slug, icon) in zip(st.columns(3), pages[start:start + 3]):
        with col.container(border=True):
            st.page_link(str(ROOT / "pages" / f"{slug}.py"), label=f"**{t(f'page.{slug}.title')}**", icon=icon)
            st.caption(t(f"page.{slug}.blurb"))

st.subheader(t("home.models"))
statuses = pretrained.status()
if not statuses:
    st.warning(t("home.no_manifest"))


def headline(entry):
    """The one figure that says what a shipped model is worth, worded for its kind."""
    m = entry["metrics"]
    epochs = entry.get("epochs_total", entry["epochs"])  # a warm restart counts the epochs before it too
    facts = dict(params=f"{entry['params']:,}", epochs=epochs, images=f"{entry['eval']['images']:,}")
    if "nmi" in m:  # the clustering reader: trained without a label, measured by ACC
        return t("home.model_ok_clusters", acc=f"{m['acc']:.2%}", **facts)
    if "accuracy" in m:
        return t("home.model_ok_classifier", accuracy=f"{m['accuracy']:.2%}", **facts)
    if "neg_elbo" in m:
        return t("home.model_ok_vae", neg_elbo=f"{m['neg_elbo']:.1f}", **facts)
    return t("home.model_ok", psnr=f"{m['gaussian_0.5']['psnr']:.2f}", ssim=f"{m['gaussian_0.5']['ssim']:.3f}", **facts)


FAMILIES = ("geometric", "oneclass")  # ten one-class models of one kind read better as one card
# The cards in the order of the pages that use them: the denoisers as the denoising page lists them, then the
# VAE (latent space), the clustering reader, the classifier (your digit); the detectors' two cards last.
ORDER = [*pretrained.denoisers(), "vae", "clusters", "classifier"]
statuses.sort(key=lambda s: ORDER.index(s.name) if s.name in ORDER else len(ORDER))
families = {f: [s for s in statuses if s.name.rsplit("_", 1)[0] == f] for f in FAMILIES}
for s in statuses:
    if any(s in members for members in families.values()):
        continue
    with st.container(border=True):
        c1, c2 = st.columns([2, 3])
        c1.markdown(f"**{t(f'model.{s.name}')}**  \n`pretrained/{s.file}`")
        if s.ok:
            c2.markdown(headline(s.entry))
        else:
            c2.error(s.problem, icon=":material/error:")
for family, members in families.items():
    if not members:
        continue
    with st.container(border=True):
        c1, c2 = st.columns([2, 3])
        c1.markdown(f"**{t(f'model.{family}')}**  \n`pretrained/{family}_0 … 9.weights.h5`")
        good = [s for s in members if s.ok]
        if good:
            aurocs = [s.entry["metrics"]["auroc"] for s in good]
            c2.markdown(t("home.model_ok_oneclass", n=len(good), mean=f"{sum(aurocs) / len(aurocs):.3f}",
                          low=f"{min(aurocs):.3f}"))
        for s in members:
            if not s.ok:
                c2.error(s.problem, icon=":material/error:")

st.caption(t("home.data_credit"))

links.finish(())

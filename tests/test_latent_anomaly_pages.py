"""The latent-space and anomaly pages as Streamlit runs them (AppTest), and the map in Chromium."""

import pytest

from core import i18n, pretrained
from tests import browser
from tests.apptest import images, open_page

EN = i18n.translator("en")
MANIFEST = pretrained.load_manifest()


def auroc(at):
    return next(m.value for m in at.metric if m.label == "AUROC")


def test_moving_a_z_slider_changes_only_the_decoded_digit():
    at = open_page("latent_space", 180)
    before = images(at)
    # decoded point, where it lies on the map, a digit beside its reconstruction, the map close around it,
    # manifold, digits from the prior, interpolation strip
    assert len(before) == 7
    # the seed AE's PCA and t-SNE maps are shipped; compacting its weights once hid them
    assert EN("latent.maps_missing") not in [i.value for i in at.info]
    assert EN("latent.compare_caption") in [c.value for c in at.caption]
    at.slider(key="z1").set_value(2.0).run()
    assert not at.exception
    after = images(at)
    assert after[0] != before[0] and after[1] != before[1] and after[2:] == before[2:]
    at.slider(key="grid_n").set_value(30).run()
    assert images(at)[4] != after[4]


def test_one_digits_elbo_split_its_sigma_and_digits_from_the_prior():
    import numpy as np

    from core import data, latent, metrics, train

    at = open_page("latent_space", 180)
    prior = images(at)[5]

    def bold():  # the pickers' "#3 · a 0" lines
        return [m.value for m in at.markdown if m.value.startswith("**#")]

    assert "**#3 · a 0**" in bold()  # the interpolation opens on test digit #3, which is a 0
    at.number_input(key="latent_digit").set_value(3).run()
    assert not at.exception and bold().count("**#3 · a 0**") == 2
    shown = {m.label: m for m in at.metric}
    recon, kl, total = (float(shown[EN(k)].value) for k in ("latent.recon", "latent.kl", "latent.neg_elbo"))
    assert abs(recon + kl - total) <= 0.1 + 1e-9  # each rounded to a tenth
    # digit 3's own figure in the manifest's computation: same seed, same batch of 1,000, same draw of z
    vae = pretrained.load("vae")
    x = data.to_float(data.load_sample()[0][:1000])
    assert float(f"{metrics.neg_elbo(vae, x, seed=train.EVAL_SEED)[3]:.1f}") == total
    mean = MANIFEST["vae"]["metrics"]["neg_elbo"]
    assert shown[EN("latent.neg_elbo")].delta == EN("latent.vs_mean", d=f"{total - mean:+.1f}")
    # Streamlit reads the arrow (and its colour) from the delta's leading sign, in Japanese too
    assert all(i18n.catalog(lang)["latent.vs_mean"].startswith("{d}") for lang in i18n.LANGUAGES)
    _, sigma = latent.posterior(vae, x[3])
    assert any(f"σ = ({sigma[0]:.3f}, {sigma[1]:.3f})" in m.value for m in at.markdown)
    # the row from the prior stays the same through other reruns, and changes only when asked
    at.slider(key="z1").set_value(1.0).run()
    assert images(at)[5] == prior
    next(b for b in at.button if b.label == EN("latent.prior_new")).click().run()
    assert not at.exception and images(at)[5] != prior and at.session_state.prior_seed == 1
    # the interpolation's ends are pickers too: "a 7" jumps from #3 to the next 7 in the test set
    labels = data.load_sample()[1]
    seven = int(np.flatnonzero((labels == 7) & (np.arange(len(labels)) > 3))[0])
    strip = images(at)[6]
    at.selectbox(key="interp_a_digit").set_value(7).run()
    assert at.number_input(key="interp_a").value == seven and f"**#{seven} · a 7**" in bold()
    assert images(at)[6] != strip


def test_changing_the_normal_digit_changes_the_auroc_to_the_manifests():
    at = open_page("anomaly", 180)
    assert auroc(at) == f"{MANIFEST['geometric_0']['metrics']['auroc']:.3f}"
    at.multiselect(key="normal_digits").set_value([1]).run()
    assert not at.exception
    assert auroc(at) == f"{MANIFEST['geometric_1']['metrics']['auroc']:.3f}"
    assert len(at.table[1].value) == 11  # the confusion table, then ten digits and the mean
    # the surprises, each thumbnail with its own score under it: normal 1s scored high, other digits low
    import pyarrow as pa  # Streamlit sends a chart's data as Arrow, beside its spec
    tables = [pa.ipc.open_stream(c.proto.data.data).read_all().to_pylist() for c in at.get("vega_lite_chart")
              if c.proto.HasField("data")]
    odd, sly = (rows for rows in tables if "url" in rows[0])
    assert len(odd) == len(sly) == 10 and {d["label"] for d in odd} == {1} and 1 not in {d["label"] for d in sly}
    assert all(d["url"].startswith("data:image/png;base64,") for d in odd + sly)
    assert [float(d["text"]) for d in odd] == sorted((float(d["text"]) for d in odd), reverse=True)
    at.multiselect(key="normal_digits").set_value([2]).run()
    assert auroc(at) == f"{MANIFEST['geometric_2']['metrics']['auroc']:.3f}"
    at.radio(key="score_kind").set_value("neg_elbo").run()  # the VAE's score, from the VAE of digit 2
    assert not at.exception and auroc(at) == f"{MANIFEST['oneclass_2']['metrics']['auroc']:.3f}"
    at.radio(key="score_kind").set_value("reconstruction").run()  # same VAE, ranks the digits differently
    assert not at.exception and auroc(at) != f"{MANIFEST['oneclass_2']['metrics']['auroc']:.3f}"


def test_a_custom_choice_trains_in_the_app():
    at = open_page("anomaly", 180)
    at.multiselect(key="normal_digits").set_value([1, 7]).run()
    at.radio(key="score_kind").set_value("neg_elbo").run()  # the quicker of the two in-app trainings
    assert not at.metric and any("No shipped model" in i.value for i in at.info)
    next(b for b in at.button if b.label == EN("anomaly.train")).click().run()
    assert not at.exception, at.exception
    assert float(auroc(at)) > 0.8
    assert any("other 5,000" in c.value for c in at.caption)


@pytest.mark.skipif(browser.chromium_path() is None, reason="Debian's chromium is not installed")
def test_the_latent_map_draws_in_chromium(tmp_path):
    with browser.serve_app() as (url, _), browser.chromium_page(1400, 1000) as page:
        page.goto(url + "/latent_space")
        page.get_by_role("heading", name="Latent space", exact=True).wait_for(timeout=120_000)
        page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=120_000)
        browser.wait_until_idle(page)
        box = page.locator(".vega-embed").first.bounding_box()
        assert box["width"] > 300 and box["height"] > 300
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "latent.png"), full_page=True)

"""The VAE, its metrics, the latent-space helpers and the anomaly arithmetic."""
import keras
import numpy as np
import pytest

from core import anomaly, data, latent, metrics, models


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_sample()
    return data.to_float(x[:256]), y[:256]


def test_vae_shapes_and_reachable_parts(digits):
    x, _ = digits
    m = models.vae(latent_dim=2)
    z_mean, z_log_var = m.encoder(x[:5])
    assert z_mean.shape == (5, 2) and z_log_var.shape == (5, 2)
    assert m.decoder(np.zeros((3, 2), np.float32)).shape == (3, 28, 28, 1)
    out = np.asarray(m(x[:5]))
    assert out.shape == (5, 28, 28, 1) and out.min() >= 0 and out.max() <= 1
    assert m.latent_dim == 2 and models.vae(latent_dim=16).latent_dim == 16
    with pytest.raises(ValueError):
        models.vae(latent_dim=0)


def test_loss_is_finite_and_falls_over_a_few_steps(digits):
    x, _ = digits
    keras.utils.set_random_seed(0)
    m = models.vae(latent_dim=2)
    m.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = metrics.neg_elbo(m, x[:64], seed=1).mean()
    history = m.fit(x[:64], epochs=8, batch_size=16, verbose=0).history["loss"]
    after = metrics.neg_elbo(m, x[:64], seed=1).mean()
    assert all(np.isfinite(history))
    assert history[-1] < history[0] and after < before - 50  # nats per image


def test_neg_elbo_is_recon_plus_kl_and_repeats_with_its_seed(digits):
    x, _ = digits
    m = models.vae(latent_dim=2)
    recon, kl = m.neg_elbo(x[:8], seed=5)
    assert np.all(np.asarray(kl) >= 0) and np.all(np.asarray(recon) > 0)
    a, b = metrics.neg_elbo(m, x[:8], seed=5), metrics.neg_elbo(m, x[:8], seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, metrics.neg_elbo(m, x[:8], seed=6))
    # ~784 · ln 2 nats for a decoder that answers 0.5 everywhere, roughly what an untrained one does
    assert 300 < a.mean() < 800


def test_keras_io_baseline_is_the_example_architecture():
    m = models.keras_io_vae()
    dense = [layer for layer in m.encoder.layers if type(layer).__name__ == "Dense"]
    assert [d.units for d in dense] == [16, 2, 2]
    assert m.count_params() == 134_165  # 69,076 encoder + 65,089 decoder, as keras.io prints


def test_roc_and_confusion():
    is_anomaly = np.array([0, 0, 0, 1, 1, 1], bool)
    score = np.array([0.1, 0.2, 0.7, 0.6, 0.8, 0.9])
    fpr, tpr, _, auroc = metrics.roc(is_anomaly, score)
    assert auroc == pytest.approx(8 / 9)
    assert fpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    cm = anomaly.confusion(is_anomaly, score, 0.65)
    assert (cm.tp, cm.fp, cm.tn, cm.fn) == (2, 1, 2, 1)
    assert cm.precision == pytest.approx(2 / 3) and cm.recall == pytest.approx(2 / 3)
    assert np.isnan(anomaly.confusion(is_anomaly, score, 5).precision)


def test_shipped_model_names_and_scores(digits):
    x, _ = digits
    assert anomaly.shipped_model([3]) == "geometric_3" and anomaly.shipped_model([3, 3], "neg_elbo") == "oneclass_3"
    assert anomaly.shipped_model([3], "reconstruction") == "oneclass_3" and anomaly.shipped_model([1, 7]) is None
    m = models.vae(latent_dim=4)
    for kind in ("neg_elbo", "reconstruction"):
        s = anomaly.score(m, x[:20], kind)
        assert s.shape == (20,) and np.all(np.isfinite(s)) and np.all(s > 0)
    with pytest.raises(ValueError, match="score"):
        anomaly.score(m, x[:2], "vibes")


def test_train_in_app_reports_each_epoch_and_refuses_nonsense():
    seen = []
    model = anomaly.train_in_app([1, 7], "neg_elbo", on_epoch=lambda e, n, loss: seen.append((e, n, loss)), epochs=2)
    assert [(e, n) for e, n, _ in seen] == [(1, 2), (2, 2)] and all(np.isfinite(loss) for *_, loss in seen)
    assert model.latent_dim == 16
    for bad in ([], list(range(10)), [11]):
        with pytest.raises(ValueError):
            anomaly.train_in_app(bad, epochs=1)


def test_manifold_and_interpolation(digits):
    x, _ = digits
    m = models.vae(latent_dim=2)
    grid = latent.manifold(m, 5, 2.0)
    assert grid.shape == (25, 28, 28, 1)
    # the grid's top-left is (z1, z2) = (−2, +2)
    assert np.allclose(grid[0], latent.decode(m, [[-2.0, 2.0]])[0], atol=1e-6)
    strip = latent.interpolate(m, x[0], x[1], 6)
    za, zb = latent.encode(m, x[:2])
    assert strip.shape == (6, 28, 28, 1)
    assert np.allclose(strip[0], latent.decode(m, [za])[0], atol=1e-5)
    assert np.allclose(strip[-1], latent.decode(m, [zb])[0], atol=1e-5)
    for bad in (lambda: latent.manifold(m, 31, 2.0), lambda: latent.manifold(m, 5, 0.0),
                lambda: latent.interpolate(m, x[0], x[1], 1)):
        with pytest.raises(ValueError):
            bad()


def test_thumbnails_are_small_png_data_urls():
    x, _ = data.load_sample()
    urls = latent.thumbnails(x[:3])
    assert all(u.startswith("data:image/png;base64,") and len(u) < 1200 for u in urls)


def test_map_picture_puts_each_digit_in_its_colour_and_marks_the_point():
    z = np.array([[0.0, 0.0], [-4.0, 4.0], [4.0, -4.0], [9.0, 0.0]])  # centre, top left, bottom right, off the map
    picture = latent.map_picture(z, [3, 1, 7, 5], extent=4.0, size=81)
    assert picture.shape == (81, 81, 3)
    assert (picture[40, 40] == latent.TABLEAU10[3]).all()  # z2 points up: (-4, 4) is the top-left corner
    assert (picture[0, 0] == latent.TABLEAU10[1]).all() and (picture[80, 80] == latent.TABLEAU10[7]).all()
    assert not (picture == latent.TABLEAU10[5]).all(axis=-1).any()  # off the map: not drawn at all
    marked = latent.mark(picture, (2.0, 2.0), extent=4.0)
    assert (marked[20, 60] == 0).all() and (picture[20, 60] == 255).all()  # a copy: the cached map is untouched
    assert (latent.mark(picture, (99.0, -99.0), extent=4.0)[80, 80] == 0).all()  # held at the edge

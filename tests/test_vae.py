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


def test_one_digits_elbo_terms_are_its_share_of_neg_elbo(digits):
    x, _ = digits
    m = models.vae(latent_dim=2)
    # two draws per digit and batches of 100: digits 0 and 99 share a batch's draw, 100 starts the next,
    # 255 sits in a short last batch; each must get exactly the z that neg_elbo() gives it
    whole = metrics.neg_elbo(m, x, samples=2, seed=5, batch_size=100)
    for i in (0, 99, 100, 255):
        recon, kl = metrics.neg_elbo_terms(m, x[i], i, len(x), samples=2, seed=5, batch_size=100)
        assert recon > 0 and kl >= 0
        assert recon + kl == pytest.approx(whole[i], rel=1e-5)
    # the KL term is the closed form for the encoder's N(μ, σ²) against N(0, I)
    mean, sigma = latent.posterior(m, x[7])
    kl = 0.5 * np.sum(mean ** 2 + sigma ** 2 - 1 - np.log(sigma ** 2))
    assert metrics.neg_elbo_terms(m, x[7], 7, len(x))[1] == pytest.approx(kl, rel=1e-4)
    for bad in (-1, len(x)):
        with pytest.raises(ValueError, match="not one of"):
            metrics.neg_elbo_terms(m, x[0], bad, len(x))


def test_the_shipped_vaes_elbo_split_adds_up_to_the_manifest():
    """The latent page's split of one digit's negative ELBO is that digit's share of the manifest's mean: the
    same draw of z, the same summed cross-entropy and KL."""
    from core import pretrained, train

    vae = pretrained.load("vae")
    x, _ = data.load_sample()
    x = data.to_float(x)
    recorded = pretrained.load_manifest()["vae"]["metrics"]
    whole = metrics.neg_elbo(vae, x[:1000], seed=train.EVAL_SEED)  # the manifest's first batch, its very draws
    assert whole.mean() == pytest.approx(recorded["neg_elbo_first_1000"], abs=0.5)
    split = np.array([metrics.neg_elbo_terms(vae, x[i], i, len(x), seed=train.EVAL_SEED) for i in range(200)])
    assert np.allclose(split.sum(axis=1), whole[:200], rtol=1e-5)
    assert (split[:, 1] > 0).all() and split[:, 0].mean() > 10 * split[:, 1].mean()  # pixels cost far more than z
    # on the manifest's scale: the first 200 digits average 137.6 nats, all 10,000 144.0 (digits differ by tens)
    assert split.sum(axis=1).mean() == pytest.approx(recorded["neg_elbo"], abs=15)


def test_sampling_the_prior_repeats_with_its_seed():
    m = models.vae(latent_dim=2)
    a, b = latent.sample_prior(m, 10, seed=4), latent.sample_prior(m, 10, seed=4)
    assert a.shape == (10, 28, 28, 1) and np.array_equal(a, b)
    assert not np.allclose(a, latent.sample_prior(m, 10, seed=5))
    z = np.random.default_rng(4).standard_normal((10, 2))  # N(0, I): numpy's draw, decoded
    assert np.allclose(a, latent.decode(m, z), atol=1e-6)
    for n in (0, latent.MAX_SAMPLES + 1):
        with pytest.raises(ValueError, match="digits"):
            latent.sample_prior(m, n, seed=0)


def test_posterior_ellipse_and_close_up(digits):
    x, _ = digits
    m = models.vae(latent_dim=2)
    mean, sigma = latent.posterior(m, x[0])
    z_mean, z_log_var = m.encoder(x[:1])
    assert np.allclose(mean, np.asarray(z_mean)[0], atol=1e-6)
    assert np.allclose(sigma, np.exp(0.5 * np.asarray(z_log_var)[0]), rtol=1e-5)
    ring = latent.ellipse([1.0, -2.0], [0.1, 0.3], k=2, points=32)
    assert ring.shape == (33, 2) and np.allclose(ring[0], ring[-1])  # closed
    assert np.allclose((((ring - [1.0, -2.0]) / [0.1, 0.3]) ** 2).sum(axis=1), 4)  # all on the ±2σ ellipse
    z = np.array([[1.0, -2.0], [1.15, -2.0], [1.25, -2.0], [1.0, -2.55], [1.0, -2.65]])
    assert latent.inside_ellipse(z, [1.0, -2.0], [0.1, 0.3]).tolist() == [True, True, False, True, False]
    # the close-up: μ in the middle (black), ±1σ ring black, a digit at μ + (2.5σ1, 0) drawn in its colour
    sigma = np.array([0.1, 0.05])
    picture = latent.close_up(np.array([[0.25, 0.0]]), [3], [0.0, 0.0], sigma, size=81)
    assert latent.close_up_half_width(sigma) == pytest.approx(0.4)
    assert picture.shape == (81, 81, 3) and (picture[40, 40] == 0).all()
    assert (picture[40, 50] == 0).all()  # one σ1 = 10 px right of μ: the black ring
    assert (picture[40, 65] == latent.TABLEAU10[3]).all() and (picture[5, 5] == 255).all()

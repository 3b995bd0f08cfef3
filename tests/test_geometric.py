"""The geometric one-class detector: its 72 transformations, its distance head, training and the recipe."""
import json

import numpy as np
import pytest

from core import anomaly, data, models, pretrained, train


@pytest.fixture(scope="module")
def sample():
    x, y = data.load_sample()
    return data.to_float(x), y


def test_transformations_are_72_distinct_and_each_is_what_it_says(sample):
    x = sample[0][:1]  # a 7: no symmetry, so every transformation gives a different picture
    assert len(anomaly.TRANSFORMS) == 72 == len(set(anomaly.TRANSFORMS))
    pictures = {anomaly.transform(x, t).tobytes() for t in range(72)}
    assert len(pictures) == 72
    identity = anomaly.TRANSFORMS.index((False, 0, 0, 0))
    assert np.array_equal(anomaly.transform(x, identity), x)
    mirrored = anomaly.transform(x, anomaly.TRANSFORMS.index((True, 0, 0, 0)))
    assert np.array_equal(mirrored[0, :, :, 0], x[0, :, ::-1, 0])
    turned = anomaly.transform(x, anomaly.TRANSFORMS.index((False, 1, 0, 0)))
    assert np.array_equal(turned[0, :, :, 0], np.rot90(x[0, :, :, 0]))
    right_down = anomaly.transform(x, anomaly.TRANSFORMS.index((False, 0, 4, 4)))
    assert np.array_equal(right_down[0, 4:, 4:], x[0, :-4, :-4])
    assert not right_down[0, :4].any() and not right_down[0, :, :4].any()  # shifted-in pixels are blank


def test_a_batch_gets_each_image_its_own_transformation(sample):
    x = sample[0][:6]
    labels = np.array([0, 5, 71, 5, 36, 0])
    out = anomaly.transformed(x, labels)
    for i, t in enumerate(labels):
        assert np.array_equal(out[i:i + 1], anomaly.transform(x[i:i + 1], t))


def test_mahalanobis_head_is_the_textbook_distance():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 8)) * np.arange(1, 9) + 3
    layer = models.Mahalanobis(ridge=1e-6)
    layer.build((None, 8))
    layer.fit(f)
    u = f / np.linalg.norm(f, axis=1, keepdims=True)
    p = np.linalg.inv(np.cov(u.T) + 1e-6 * np.eye(8))
    probe = rng.normal(size=(5, 8))
    v = probe / np.linalg.norm(probe, axis=1, keepdims=True) - u.mean(0)
    assert np.allclose(np.asarray(layer(probe.astype("float32"))), np.einsum("ij,jk,ik->i", v, p, v), rtol=1e-3)


def test_training_on_ones_flags_the_other_digits(sample):
    """A short in-app run on the 1s among the first 5,000 test digits already tells them from the rest."""
    x, y = sample
    seen = []
    model = anomaly.train_in_app([1], "geometric", on_epoch=lambda e, n, loss: seen.append((e, n, loss)), epochs=3)
    assert [(e, n) for e, n, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    assert seen[-1][2] < seen[0][2]  # the transformation loss falls
    held_out = slice(anomaly.APP_SPLIT, anomaly.APP_SPLIT + 2000)
    score = anomaly.score(model, x[held_out], "geometric")
    from core import metrics

    assert metrics.roc(y[held_out] != 1, score)[3] > 0.9


def test_recipe_trains_and_records_its_auroc(tmp_path):
    x, y = data.load_sample()
    path = tmp_path / "small.npz"
    np.savez(path, x_train=x[:1000], y_train=y[:1000], x_test=x[1000:1300], y_test=y[1000:1300])
    out = tmp_path / "out"
    assert train.main(["geometric_1", "--epochs", "1", "--data", str(path), "--out", str(out),
                       "--eval-images", "300"]) == 0
    e = json.loads((out / "manifest.json").read_text())["geometric_1"]
    m = e["metrics"]
    assert m["score"] == "geometric" and m["normal_digits"] == [1] and 0 <= m["auroc"] <= 1
    assert m["auroc_first_1000"] == m["auroc"]  # only 300 digits measured
    assert e["options"]["noise"].startswith("none")
    assert pretrained.check("geometric_1", folder=out).ok
    model = pretrained.load("geometric_1", folder=out)
    assert model.count_params() == e["params"]
    assert not np.allclose(np.asarray(model.distance.precision), np.eye(256))  # the fitted head was saved

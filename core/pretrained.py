"""Shipped weights: find them, verify them against the manifest, load them.

`status()` reads only JSON and file hashes, so the home page can call it without importing TensorFlow.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import data


class PretrainedError(RuntimeError):
    """A shipped model can't be used; the message names the file, the fault and the fix."""


def regenerate_command(name: str) -> str:
    return f"python -m core.train {name}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_hashes: dict[tuple, str] = {}
_hashing = threading.Lock()  # twenty first visitors at once hash each file once, not twenty times


def file_sha256(path: Path) -> str:
    """sha256 of a shipped file, hashed once per process and again whenever its size or mtime changes:
    the home page checks every file on each run, and hashing all of pretrained/ costs ~0.4 s."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    with _hashing:
        if key not in _hashes:
            _hashes[key] = sha256(path)
        return _hashes[key]


def _folder(folder) -> Path:
    # Looked up at call time, so tests can point the whole app at a damaged copy.
    return Path(folder) if folder is not None else data.PRETRAINED_DIR


def record(folder, name: str, entry: dict) -> None:
    """Write `entry` as `name`'s manifest entry in `folder`, under a file lock: two trainings (or a
    training and a compaction) may finish at the same moment."""
    import fcntl

    folder = Path(folder)
    path = folder / "manifest.json"
    with open(folder / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = load_manifest(path)
        manifest[name] = entry
        path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2, ensure_ascii=False) + "\n")


def load_manifest(path: Path | None = None) -> dict:
    path = Path(path) if path is not None else _folder(None) / "manifest.json"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@dataclass
class ModelStatus:
    name: str
    file: str
    ok: bool
    problem: str  # empty when ok
    entry: dict


def check(name: str, manifest: dict | None = None, folder: Path | None = None) -> ModelStatus:
    folder = _folder(folder)
    manifest = load_manifest(folder / "manifest.json") if manifest is None else manifest
    entry = manifest.get(name)
    fix = f"Regenerate it with: {regenerate_command(name)}"
    if entry is None:
        return ModelStatus(name, f"{name}.weights.h5", False,
                           f"{name} is not listed in pretrained/manifest.json. {fix}", {})
    path = folder / entry["file"]
    if not path.exists():
        return ModelStatus(name, entry["file"], False, f"pretrained/{entry['file']} is missing. {fix}", entry)
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        return ModelStatus(name, entry["file"], False,
                           f"pretrained/{entry['file']} is damaged or was changed: its sha256 is "
                           f"{digest[:12]}…, the manifest expects {entry['sha256'][:12]}…. {fix}", entry)
    return ModelStatus(name, entry["file"], True, "", entry)


def denoisers(manifest: dict | None = None) -> list[str]:
    """Shipped models that clean noisy digits (they are measured at Gaussian 0.5): the seed's first, then ours from
    the smallest to the largest (U-Net, global, wide, deep, deeper: each a step up from the one before)."""
    manifest = load_manifest() if manifest is None else manifest
    found = [name for name, e in manifest.items() if "gaussian_0.5" in e.get("metrics", {})]
    return sorted(found, key=lambda n: (n != "seed_ae", manifest[n].get("params", 0), n))


def best_denoiser(manifest: dict | None = None) -> str | None:
    """The shipped denoiser with the highest recorded PSNR at Gaussian 0.5, the seed's own setting."""
    manifest = load_manifest() if manifest is None else manifest
    return max(denoisers(manifest), key=lambda n: manifest[n]["metrics"]["gaussian_0.5"]["psnr"], default=None)


def same_weights(entry: dict) -> set[str]:
    """The sha256s of files holding exactly this entry's weights: its own, and the one `core.compact`
    rewrote lean (bit-identical weights). Figures computed from either still hold."""
    return {entry.get("sha256"), entry.get("converted_from", {}).get("sha256")} - {None}


def derived_arrays(path: Path, made_from) -> dict | None:
    """A file of arrays computed from shipped weights (maps, fits), holding a `<name>_sha256` for each model of
    `made_from`: its other arrays, or None when the file is missing or was made from other weights than the
    manifest's (then the caller computes afresh, or says what to run)."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    manifest = load_manifest()
    for name in made_from:
        if str(arrays.pop(f"{name}_sha256")) not in same_weights(manifest.get(name, {})):
            return None
    return arrays


def status(folder: Path | None = None) -> list[ModelStatus]:
    folder = _folder(folder)
    manifest = load_manifest(folder / "manifest.json")
    return [check(name, manifest, folder) for name in manifest]


def load(name: str, folder: Path | None = None):
    """Build the model from our own code and load its verified weights (never code from a file)."""
    folder = _folder(folder)
    st = check(name, folder=folder)
    if not st.ok:
        raise PretrainedError(st.problem)
    from core.recipes import RECIPES  # TensorFlow is imported only once a model is really wanted (build)

    if name not in RECIPES:
        raise PretrainedError(f"{name} has no recipe in core.train.RECIPES; it cannot be built.")
    model = RECIPES[name].build()
    try:
        model.load_weights(folder / st.file)
    except Exception as exc:  # a file that hashes right but doesn't fit the architecture
        raise PretrainedError(f"pretrained/{st.file} does not fit the {name} architecture ({exc}). "
                              f"Regenerate it with: {regenerate_command(name)}") from exc
    return model


# ─── Lean files: the weights only, compressed ────────────────────────────────────────────────────────
# A compiled model's save_weights also stores Adam's two moments per weight, two thirds of the file, and
# the app never resumes training. Trained float32 weights also shrink by about a sixth under HDF5's byte
# shuffle + gzip, losslessly, and h5py (hence Keras's load_weights) reads them back with no change.
COMPRESS_MIN_BYTES = 4096  # smaller arrays (biases, scalars) would cost more in chunk index than they save


def optimizer_variables(path) -> int:
    """How many optimizer variables (Adam's moments, its step counter) a weights file holds."""
    import h5py

    with h5py.File(path, "r") as f:
        found = []
        if "optimizer" in f:
            f["optimizer"].visititems(lambda _, obj: found.append(1) if isinstance(obj, h5py.Dataset) else None)
        return len(found)


def is_lean(path) -> bool:
    """No optimizer variables, and every array worth compressing is stored compressed."""
    import h5py

    with h5py.File(path, "r") as f:
        loose = []
        f.visititems(lambda _, obj: loose.append(1) if isinstance(obj, h5py.Dataset) and
                     obj.nbytes >= COMPRESS_MIN_BYTES and obj.compression != "gzip" else None)
    return not loose and optimizer_variables(path) == 0


def write_weights(model, path) -> Path:
    """Save `model`'s weights to `path` as a lean file: Keras's own layout, without the optimizer's
    variables, large arrays compressed. The bytes depend only on the weights (no timestamps)."""
    import tempfile

    import h5py

    path = Path(path)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw = Path(tmp) / "raw.weights.h5"
        model.save_weights(raw)
        packed = Path(tmp) / "packed.weights.h5"
        with h5py.File(raw, "r") as src, h5py.File(packed, "w", track_order=True) as dst:
            dst.attrs.update(src.attrs)

            def copy(name, obj):
                if isinstance(obj, h5py.Group):
                    dst.require_group(name).attrs.update(obj.attrs)
                elif not name.startswith("optimizer/"):
                    big = obj.nbytes >= COMPRESS_MIN_BYTES
                    dst.create_dataset(name, data=obj[()], track_times=False,
                                       **(dict(compression="gzip", compression_opts=9, shuffle=True) if big else {}))
                    dst[name].attrs.update(obj.attrs)

            src.visititems(copy)
        packed.replace(path)
    return path


def compiled_forward(model):
    """The app's call path: one traced graph for any batch size, no `predict` machinery per call.
    Traced once per model and kept on it: a page that scores one digit per rerun doesn't retrace."""
    forward = getattr(model, "_traced_forward", None)
    if forward is None:
        import tensorflow as tf

        # autograph=False: nothing here branches on a tensor, and autograph would parse this lambda's source
        # with `ast` on whichever thread traces it first. CPython 3.11's parser is not safe for two threads
        # at once ("AST constructor recursion depth mismatch"; the warm-up thread and a page's script did
        # it together under AppTest), and a parse spoilt that way traced `model((x,))`: "Only input tensors
        # may be passed as positional arguments".
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True, autograph=False,
                         input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
        forward = lambda x: fn(tf.constant(np.asarray(x, np.float32))).numpy()  # noqa: E731
        # object.__setattr__: Keras would otherwise try to track it as part of the model
        object.__setattr__(model, "_traced_forward", forward)
    return forward


def forward(name: str, folder: Path | None = None):
    """The shipped model `name`, loaded and verified, as a fast function: images (N, 28, 28, 1) → outputs."""
    return compiled_forward(load(name, folder))

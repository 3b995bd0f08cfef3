"""Rewrite shipped weights as lean files, keeping every figure the manifest records.

    python -m core.compact [NAME ...] [--folder pretrained] [--dry-run]

For each shipped file that is not lean yet (it holds optimizer variables, or large arrays stored loose),
and only the NAMEs given if any: build the model from its recipe, load the file, write the weights alone
(core.pretrained.write_weights), load them back into a fresh model and check every array is bit-for-bit
the same, re-measure the manifest's metrics on the shipped test digits and refuse the file if any moved
beyond the tests' tolerances. The manifest entry gets the new sha256 and `converted_from`: the old file's
sha256 and size, the command, the date and the largest change measured. The recorded metrics stay the
training run's own.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

import numpy as np

from core import data, pretrained, train
from core.recipes import RECIPES

COMMAND = "python -m core.compact"

# The tests' tolerances (tests/test_pretrained.py) by metric; any figure not named here must not move.
TOLERANCES = {"psnr": 0.1, "ssim": 1e-3, "bce": 1e-3, "neg_elbo": 0.5, "neg_elbo_normal": 0.5,
              "neg_elbo_anomalous": 0.5, "auroc": 1e-3, "score_normal": 1e-3, "score_anomalous": 1e-3}


def _leaves(tree, prefix=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, prefix + (str(k),))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield prefix, float(tree)


def _tolerance(path: tuple) -> float:
    # psnr_by_factor.gaussian.0.3 is a psnr; auroc_first_1000 an auroc; per_class_accuracy.7 an accuracy
    grouped = path[0].endswith("_by_factor") or path[0] == "per_class_accuracy"
    key = path[0].removesuffix("_by_factor") if grouped else path[-1]
    return TOLERANCES.get(key.removesuffix("_first_1000"), 0.0)


def drift(recorded: dict, measured: dict) -> tuple[float, list[str]]:
    """The largest change over all recorded metrics, and a line for each beyond its tolerance."""
    now = dict(_leaves(measured))
    worst, problems = 0.0, []
    for path, before in _leaves(recorded):
        name = ".".join(path)
        if path not in now:
            problems.append(f"{name}: recorded {before}, not measured")
            continue
        change = abs(now[path] - before)
        worst = max(worst, change)
        if change > _tolerance(path) + 1e-12:
            problems.append(f"{name}: recorded {before:.6g}, measured {now[path]:.6g} (tolerance {_tolerance(path)})")
    return worst, problems


def pending(folder: Path | None = None) -> list[str]:
    """Shipped models whose files are not lean yet."""
    folder = Path(folder) if folder is not None else data.PRETRAINED_DIR
    manifest = pretrained.load_manifest(folder / "manifest.json")
    return [n for n, e in manifest.items() if not pretrained.is_lean(folder / e["file"])]


def compact(name: str, folder: Path | None = None, log=print) -> dict:
    """Rewrite one shipped file lean (see the module's docstring); returns its new manifest entry."""
    folder = Path(folder) if folder is not None else data.PRETRAINED_DIR
    st = pretrained.check(name, folder=folder)
    if not st.ok:
        raise pretrained.PretrainedError(st.problem)
    path, entry, r = folder / st.file, dict(st.entry), RECIPES[name]
    old_sha, old_bytes, old_optimizer = entry["sha256"], path.stat().st_size, pretrained.optimizer_variables(path)
    model = pretrained.load(name, folder)

    lean = path.with_name(path.name.removesuffix(".weights.h5") + ".lean.weights.h5")  # Keras goes by the suffix
    pretrained.write_weights(model, lean)
    again = r.build()
    again.load_weights(lean)
    for a, b in zip(model.weights, again.weights, strict=True):
        if a.path != b.path or not np.array_equal(np.asarray(a), np.asarray(b)):
            lean.unlink()
            raise RuntimeError(f"{name}: {a.path} differs after the rewrite; {path.name} left as it was")

    sample, labels = data.load_sample(folder / "mnist_test.npz")
    n = entry.get("eval", {}).get("images", len(sample))
    measured = train.measure(r, again, sample[:n], labels[:n])
    worst, problems = drift(entry["metrics"], measured)
    if problems:
        lean.unlink()
        raise RuntimeError(f"{name}: metrics moved beyond the tests' tolerances; {path.name} left as it "
                           "was:\n  " + "\n  ".join(problems))

    lean.replace(path)
    entry["sha256"] = pretrained.sha256(path)
    entry["converted_from"] = {
        "sha256": old_sha, "bytes": old_bytes, "optimizer_variables": old_optimizer, "command": COMMAND,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "largest_metric_change": worst, "bytes_after": path.stat().st_size}
    pretrained.record(folder, name, entry)
    log(f"[{name}] {old_bytes / 1e6:.1f} MB → {entry['converted_from']['bytes_after'] / 1e6:.1f} MB; "
        f"weights identical; largest metric change {worst:.3g}")
    return entry


def main(argv=None):
    p = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="only these models (default: every file not lean yet)")
    p.add_argument("--folder", help="the folder of weights and manifest.json (default: pretrained/)")
    p.add_argument("--dry-run", action="store_true", help="list what would be rewritten, change nothing")
    a = p.parse_args(argv)
    folder = Path(a.folder) if a.folder else data.PRETRAINED_DIR
    todo = pending(folder)
    if a.names:
        unknown = sorted(set(a.names) - set(pretrained.load_manifest(folder / "manifest.json")))
        if unknown:
            p.error(f"not in the manifest: {', '.join(unknown)}")
        todo = [n for n in a.names if n in todo]
    before = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    print(f"{folder}: {before / 1e6:.1f} MB; to rewrite: {', '.join(todo) or 'nothing'}", flush=True)
    if a.dry_run:
        return 0
    for name in todo:
        compact(name, folder, log=lambda line: print(line, flush=True))
    after = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    print(f"{folder}: {before / 1e6:.1f} MB → {after / 1e6:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

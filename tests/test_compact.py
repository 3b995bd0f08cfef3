"""Lean weight files: no optimizer variables, compressed, and rewriting one keeps every weight and figure."""
import json
import shutil

import numpy as np
import pytest

from core import compact, data, pretrained
from core.recipes import RECIPES

MANIFEST = pretrained.load_manifest()


def test_every_shipped_file_is_lean():
    fat = {n for n, e in MANIFEST.items() if pretrained.optimizer_variables(data.PRETRAINED_DIR / e["file"])}
    assert fat == set()  # no shipped file holds an optimizer variable
    loose = {n for n, e in MANIFEST.items() if not pretrained.is_lean(data.PRETRAINED_DIR / e["file"])}
    assert loose == set()  # and every large array is stored compressed
    for name, e in MANIFEST.items():
        if "converted_from" in e:  # a compacted file records what it came from and how
            assert e["converted_from"]["command"] == compact.COMMAND
            assert e["converted_from"]["sha256"] != e["sha256"]
            assert e["converted_from"]["bytes_after"] == (data.PRETRAINED_DIR / e["file"]).stat().st_size


@pytest.fixture
def fat_seed_ae(tmp_path):
    """A copy of the shipped seed AE saved the old way (compiled, Adam's moments in the file), with a
    manifest entry that says so; the weights and hence the recorded figures are the shipped ones."""
    import keras

    folder = tmp_path / "pretrained"
    folder.mkdir()
    shutil.copy(data.SAMPLE_PATH, folder / data.SAMPLE_PATH.name)
    model = pretrained.load("seed_ae")
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
    model.optimizer.build(model.trainable_variables)
    path = folder / MANIFEST["seed_ae"]["file"]
    model.save_weights(path)
    entry = dict(MANIFEST["seed_ae"], sha256=pretrained.sha256(path))
    entry.pop("converted_from", None)
    (folder / "manifest.json").write_text(json.dumps({"seed_ae": entry}))
    return folder


def test_compaction_keeps_every_weight_and_figure(fat_seed_ae):
    path = fat_seed_ae / "seed_ae.weights.h5"
    fat_sha, fat_bytes = pretrained.sha256(path), path.stat().st_size
    assert pretrained.optimizer_variables(path) > 0 and compact.pending(fat_seed_ae) == ["seed_ae"]

    assert compact.main(["--folder", str(fat_seed_ae)]) == 0

    entry = pretrained.load_manifest(fat_seed_ae / "manifest.json")["seed_ae"]
    assert pretrained.optimizer_variables(path) == 0 and pretrained.is_lean(path)
    assert path.stat().st_size < fat_bytes / 3  # the moments were two thirds; gzip takes a little more
    assert entry["sha256"] == pretrained.sha256(path) and pretrained.check("seed_ae", folder=fat_seed_ae).ok
    assert entry["converted_from"]["sha256"] == fat_sha and entry["converted_from"]["bytes"] == fat_bytes
    assert entry["converted_from"]["largest_metric_change"] < 1e-3
    assert entry["metrics"] == MANIFEST["seed_ae"]["metrics"]  # the training run's own record is kept
    lean, shipped = pretrained.load("seed_ae", fat_seed_ae), pretrained.load("seed_ae")
    for a, b in zip(lean.weights, shipped.weights, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert compact.pending(fat_seed_ae) == []  # a second run has nothing to do


def test_compaction_refuses_figures_that_moved(fat_seed_ae, monkeypatch):
    # What is tested here is the refusal, not the measuring (the test above re-measures for real, 35 s):
    # the weights measure what the shipped manifest records (test_shipped_scores checks that it is so).
    recorded = json.loads(json.dumps(MANIFEST["seed_ae"]["metrics"]))
    monkeypatch.setattr(compact.train, "measure", lambda *_: recorded)
    manifest_path = fat_seed_ae / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["seed_ae"]["metrics"]["gaussian_0.5"]["psnr"] += 0.2  # beyond the tests' 0.1 dB
    manifest_path.write_text(json.dumps(manifest))
    before = (fat_seed_ae / "seed_ae.weights.h5").read_bytes()
    with pytest.raises(RuntimeError, match=r"gaussian_0\.5\.psnr: recorded .* \(tolerance 0\.1\)"):
        compact.compact("seed_ae", fat_seed_ae, log=lambda _: None)
    assert (fat_seed_ae / "seed_ae.weights.h5").read_bytes() == before  # left as it was
    assert sorted(p.name for p in fat_seed_ae.iterdir()) == ["manifest.json", "mnist_test.npz", "seed_ae.weights.h5"]
    assert json.loads(manifest_path.read_text()) == manifest


def test_tolerances_are_the_tests():
    assert compact.drift({"gaussian_0.5": {"psnr": 20.0}}, {"gaussian_0.5": {"psnr": 20.09}})[1] == []
    assert compact.drift({"auroc": 0.99}, {"auroc": 0.9885})[1] != []
    assert compact.drift({"errors": 54}, {"errors": 55})[1] != []  # a count must not move at all
    assert compact.drift({"psnr_by_factor": {"gaussian": {"0.3": 22.0}}},
                         {"psnr_by_factor": {"gaussian": {"0.3": 22.05}}})[1] == []
    assert "not measured" in compact.drift({"neg_elbo": 150.0}, {})[1][0]


def test_a_trained_file_is_lean(tmp_path):
    """What core.train writes (through pretrained.write_weights) needs no compaction: a compiled model
    that has taken a step, so its optimizer holds moments."""
    model = RECIPES["seed_ae"].build()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    model.fit(x, x, epochs=1, verbose=0)
    path = pretrained.write_weights(model, tmp_path / "m.weights.h5")
    assert pretrained.is_lean(path)
    again = RECIPES["seed_ae"].build()
    again.load_weights(path)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(model.weights, again.weights))
    raw = tmp_path / "raw.weights.h5"
    model.save_weights(raw)
    assert not pretrained.is_lean(raw) and pretrained.optimizer_variables(raw) > 0  # why write_weights exists

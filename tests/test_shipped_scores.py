"""pretrained/oneclass_scores.npz: the one-class models' scores of the test digits, shipped so the anomaly
page need not compute them when a student picks a normal digit. They must be what the shipped weights give."""
import json
import shutil

import numpy as np
import pytest

from core import anomaly, data, metrics, pretrained

MANIFEST = pretrained.load_manifest()
STORED = anomaly.load_scores()
_, LABELS = data.load_sample()


def test_every_shipped_one_class_model_and_score_is_there():
    expected = {(anomaly.shipped_model([d], kind), kind) for d in range(10) for kind in anomaly.SCORES}
    assert set(STORED) == {k for k in expected if k[0] in MANIFEST} and len(STORED) == 30
    for values in STORED.values():
        assert values.shape == (len(LABELS),) and values.dtype == np.float64 and np.isfinite(values).all()


@pytest.mark.parametrize("digit", range(10))
def test_stored_scores_give_the_manifest_figures(digit):
    """What the training run recorded (AUROC, mean scores) follows from the stored scores alone."""
    normal = LABELS == digit
    geo = MANIFEST[f"geometric_{digit}"]["metrics"]
    score = STORED[f"geometric_{digit}", "geometric"]
    assert metrics.roc(~normal, score)[3] == pytest.approx(geo["auroc"], abs=1e-4)
    assert score[normal].mean() == pytest.approx(geo["score_normal"], rel=1e-5)
    assert score[~normal].mean() == pytest.approx(geo["score_anomalous"], rel=1e-5)
    vae = MANIFEST[f"oneclass_{digit}"]["metrics"]
    score = STORED[f"oneclass_{digit}", "neg_elbo"]  # the same z draws as the training run's evaluation
    assert metrics.roc(~normal, score)[3] == pytest.approx(vae["auroc"], abs=1e-4)
    assert score.mean() == pytest.approx(vae["neg_elbo"], abs=1e-3)


def test_stored_scores_are_what_the_weights_give_now():
    x = data.to_float(data.load_sample()[0])
    for name, kinds in (("geometric_3", ("geometric",)), ("oneclass_5", ("neg_elbo", "reconstruction"))):
        model = pretrained.load(name)
        for kind in kinds:
            np.testing.assert_allclose(anomaly.score(model, x, kind), STORED[name, kind], rtol=2e-5, atol=1e-4)


def test_scores_of_other_weights_are_not_used(tmp_path):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    for f in ("manifest.json", anomaly.SCORES_FILE):
        shutil.copy(data.PRETRAINED_DIR / f, folder / f)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["geometric_4"].update(sha256="0" * 64)  # retrained since: its stored scores no longer hold
    manifest["geometric_4"].pop("converted_from", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    kept = anomaly.load_scores(folder)
    assert ("geometric_4", "geometric") not in kept and len(kept) == 29
    assert np.array_equal(kept["geometric_5", "geometric"], STORED["geometric_5", "geometric"])
    (folder / anomaly.SCORES_FILE).unlink()
    assert anomaly.load_scores(folder) == {}  # no file: the page scores every model itself


def test_pages_read_the_stored_scores(monkeypatch):
    from ui import models

    def no_scoring(*_):
        raise AssertionError("scored the test digits although their scores are shipped")

    monkeypatch.setattr(models, "_shipped_scores", no_scoring)
    monkeypatch.setattr(models, "_typical_scores", no_scoring)
    scores = models.shipped_scores("oneclass_2", "reconstruction")
    assert np.array_equal(scores, STORED["oneclass_2", "reconstruction"])
    scores[:] = 0  # a page's copy: the shared one is untouched
    assert np.array_equal(models.shipped_scores("oneclass_2", "reconstruction"), STORED["oneclass_2", "reconstruction"])
    typical = models.typical_scores("geometric_7", 7, "geometric")
    assert len(typical) == (LABELS == 7).sum() and np.all(np.diff(typical) >= 0)

"""Clusters without labels: the scores, the shipped clustering recomputed, and the page (labels only after the
reveal)."""
import numpy as np
import pytest

from core import clustering, data, pretrained
from tests.apptest import images, open_page
from tests.test_links import open_link

RNG = np.random.default_rng(0)


# ─── Scores ──────────────────────────────────────────────────────────────────────────────────────────
def test_matching_undoes_a_known_permutation():
    labels = RNG.integers(0, 10, 5000)
    permutation = RNG.permutation(10)
    clusters = permutation[labels]
    assert clustering.matching(labels, clusters) == {int(permutation[d]): d for d in range(10)}
    s = clustering.scores(labels, clusters)
    assert s["acc"] == 1.0 and s["nmi"] == pytest.approx(1.0) and s["ari"] == pytest.approx(1.0)


def test_accuracy_counts_mistakes_noise_and_unmatched_clusters_as_wrong():
    labels = np.repeat(np.arange(10), 100)
    clusters = labels.copy()
    clusters[:50] = 3  # half the 0s put with the 3s
    clusters[100:110] = -1  # ten 1s left as noise
    assert clustering.accuracy(labels, clusters) == pytest.approx(1 - 0.06)
    split = np.where(labels == 9, 10 + (np.arange(1000) % 2), labels)  # the 9s split in two: one half unmatched
    assert clustering.accuracy(labels, split) == pytest.approx(0.95)
    assert len(clustering.matching(labels, split)) == 10


def test_a_random_clustering_scores_like_chance():
    labels = RNG.integers(0, 10, 10000)
    s = clustering.scores(labels, RNG.integers(0, 10, 10000))
    assert s["acc"] < 0.15 and s["nmi"] < 0.01 and abs(s["ari"]) < 0.01


# ─── The shipped clustering ──────────────────────────────────────────────────────────────────────────
def test_the_shipped_clustering_scores_what_its_manifest_says():
    entry = pretrained.load_manifest()["clusters"]
    x, y = data.load_sample()
    groups = clustering.assign(data.to_float(x[:1000]))
    assert set(np.unique(groups)) <= set(range(10))
    first = clustering.scores(y[:1000], groups)
    m = entry["metrics"]
    assert first["acc"] == pytest.approx(m["acc_first_1000"], abs=1e-9)
    assert first["nmi"] == pytest.approx(m["nmi_first_1000"], abs=1e-6)
    assert m["acc"] >= 0.975  # the target, beyond every 10k figure in the table
    assert "no label" in entry["options"]["loss"]


def test_training_the_clustering_never_reads_a_label(monkeypatch, tmp_path):
    """A short `python -m core.train clusters` on 800 digits whose labels raise when read."""
    class Poisoned(np.ndarray):
        def __getitem__(self, item):
            raise AssertionError("a label was read")

        def __array__(self, *args, **kwargs):
            raise AssertionError("a label was read")

    x, y = data.load_sample()  # the shipped digits stand in for the training set: CI has no MNIST of its own
    poisoned = np.zeros(800, np.uint8).view(Poisoned)
    monkeypatch.setattr(data, "load_mnist", lambda path=None: (((x[:800], poisoned), (x, y)), "shipped sample"))
    monkeypatch.setattr(clustering, "AE_EPOCHS", 1)
    monkeypatch.setattr(clustering, "ROUNDS", ((0.5, 1), (0.8, 1)))
    from core import train

    entry = train.train("clusters", out=tmp_path, eval_images=200, verbose=0)
    assert (tmp_path / "clusters.weights.h5").exists()
    taught = [r["taught"] for r in entry["options"]["steps"]["rounds"]]
    assert taught[0] == pytest.approx(400, abs=10) and taught[1] == pytest.approx(640, abs=10)


def test_the_shipped_fits_come_from_the_shipped_weights_and_cover_every_choice():
    fits = clustering.load_fits()
    assert fits is not None
    n = len(data.load_sample()[1])
    for rep in clustering.REPRESENTATIONS:
        assert fits[f"map_{rep}"].shape == (n, 2)
        for k in range(clustering.K_RANGE[0], clustering.K_RANGE[1] + 1):
            for method in ("kmeans", "gmm"):
                clusters = clustering.shipped(fits, rep, method, k)
                assert clusters.shape == (n,) and clusters.max() < k
                typical = clustering.shipped_typical(fits, rep, method, k)
                assert set(typical) == set(np.unique(clusters))
                c = next(iter(typical))
                assert (clusters[typical[c]] == c).all()
        assert clustering.shipped(fits, rep, "hdbscan", 10).min() >= -1


def test_the_lab_clustering_beats_the_others_on_the_shipped_fits():
    fits = clustering.load_fits()
    _, y = data.load_sample()
    ours = clustering.accuracy(y, clustering.shipped(fits, "ours", "kmeans", 10))
    assert ours >= 0.97
    assert clustering.accuracy(y, clustering.shipped(fits, "pixels", "kmeans", 10)) < 0.65  # published 0.546


# ─── The page ────────────────────────────────────────────────────────────────────────────────────────
def test_before_the_reveal_nothing_uses_a_label(monkeypatch):
    calls = []
    for name in ("scores", "matching", "contingency", "accuracy"):
        real = getattr(clustering, name)
        monkeypatch.setattr(clustering, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    at = open_page("clustering")
    assert not calls, calls
    assert not at.metric and not at.dataframe  # no ACC, NMI, ARI, no confusion matrix
    assert len(images(at)) == 10  # ten groups' typical digits
    assert not any("→" in m.value for m in at.markdown)
    at.toggle(key="cl_reveal").set_value(True).run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    _, y = data.load_sample()
    expected = clustering.scores(y, clustering.shipped(clustering.load_fits(), *clustering.DEFAULT))
    assert labels["ACC"] == f"{expected['acc']:.3f}" and labels["NMI"] == f"{expected['nmi']:.3f}"
    assert at.dataframe[0].value.shape == (10, 10)


def test_every_control_redraws_the_groups():
    at = open_page("clustering")
    before = images(at)
    at.slider(key="cl_k").set_value(5).run()
    assert len(images(at)) == 5 and not at.exception
    at.selectbox(key="cl_rep").set_value("pixels").run()
    assert len(images(at)) == 5 and images(at) != before[:5]
    at.segmented_control(key="cl_method").set_value("gmm").run()
    assert not at.exception and len(images(at)) == 5
    at.segmented_control(key="cl_method").set_value("hdbscan").run()
    assert not at.exception and at.slider(key="cl_k").disabled
    for rep in ("pca", "seed_ae", "vae", "ours"):
        at.selectbox(key="cl_rep").set_value(rep).run()
        assert not at.exception and images(at)


def test_ten_labels_make_a_classifier_beside_the_supervised_one():
    at = open_page("clustering")
    at.toggle(key="cl_reveal").set_value(True).run()
    at.button[0].click().run()  # take the true label of each group's typical digit
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    accuracy = next(v for label, v in metrics.items() if "10" in label)
    assert float(accuracy.rstrip("%")) >= 97.0
    assert any("99.46%" in m.value for m in at.markdown)


def test_a_link_restores_every_setting_and_names_a_bad_one():
    at = open_link("clustering", {"rep": "pca", "method": "gmm", "k": "7", "reveal": "1"})
    assert (at.selectbox(key="cl_rep").value, at.segmented_control(key="cl_method").value,
            at.slider(key="cl_k").value, at.toggle(key="cl_reveal").value) == ("pca", "gmm", 7, True)
    bad = open_link("clustering", {"rep": "sift", "k": "99"})
    assert bad.selectbox(key="cl_rep").value == "ours" and bad.slider(key="cl_k").value == 10
    assert any("`rep=sift`" in w.value and "`k=99`" in w.value for w in bad.warning)


def test_japanese_page_is_translated():
    at = open_link("clustering", {"lang": "ja"})
    assert at.title[0].value == "ラベルなしのクラスタ"
    assert not any(m.value.startswith("[cl.") for m in at.markdown)

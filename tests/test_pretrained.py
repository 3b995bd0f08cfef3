"""The shipped weights: present, intact, loadable, and as good as the manifest says."""
import shutil

import numpy as np
import pytest

from core import data, metrics, pretrained, train
from core.recipes import RECIPES

DENOISERS = ["seed_ae", "unet", "unet_global", "unet_global_wide", "unet_global_deep", "unet_global_deeper"]  # seed first, then by size
ONE_CLASS = [f"oneclass_{d}" for d in range(10)]
GEOMETRIC = [f"geometric_{d}" for d in range(10)]
SHIPPED = DENOISERS + ["classifier", "vae"] + ONE_CLASS + GEOMETRIC
MANIFEST = pretrained.load_manifest()


@pytest.fixture(scope="module")
def test_set():
    x, y = data.load_sample()
    x = data.to_float(x)
    # the manifest's noise: drawn for all 10,000 digits with EVAL_SEED, so the first 1,000 are a slice
    return x[:1000], data.add_noise(x, 0.5, "gaussian", seed=train.EVAL_SEED)[:1000], x, y


def test_every_model_is_shipped_and_verifies():
    assert set(SHIPPED) <= set(MANIFEST)
    assert pretrained.denoisers() == DENOISERS
    assert pretrained.best_denoiser() == "unet_global_deeper"  # the page shows it beside the seed's by default
    one = {"metrics": {"gaussian_0.5": {"psnr": 20.0}}}
    assert pretrained.best_denoiser({"a": one, "b": {"metrics": {"gaussian_0.5": {"psnr": 21.0}}}}) == "b"
    assert pretrained.best_denoiser({"vae": {"metrics": {}}}) is None
    for name in SHIPPED:
        status = pretrained.check(name)
        assert status.ok, status.problem


@pytest.mark.parametrize("name", DENOISERS)
def test_denoisers_load_and_score_as_recorded(name, test_set):
    entry = MANIFEST[name]
    model = pretrained.load(name)
    assert model.count_params() == entry["params"]
    clean, noisy, _, _ = test_set
    recon = pretrained.compiled_forward(model)(noisy)
    measured = float(metrics.psnr(clean, recon).mean())
    assert abs(measured - entry["metrics"]["gaussian_0.5"]["psnr_first_1000"]) < 0.1


def test_classifier_scores_as_recorded(test_set):
    _, _, x, y = test_set
    probabilities = pretrained.forward("classifier")(x[:1000])
    accuracy = float((probabilities.argmax(axis=1) == y[:1000]).mean())
    assert accuracy == pytest.approx(MANIFEST["classifier"]["metrics"]["accuracy_first_1000"], abs=1e-9)
    assert MANIFEST["classifier"]["metrics"]["accuracy"] >= 0.993


def test_vae_neg_elbo_as_recorded(test_set):
    _, _, x, _ = test_set
    score = metrics.neg_elbo(pretrained.load("vae"), x, seed=train.EVAL_SEED)  # same draws as the manifest
    assert abs(score[:1000].mean() - MANIFEST["vae"]["metrics"]["neg_elbo_first_1000"]) < 0.5


@pytest.mark.parametrize("digit", range(10))
def test_one_class_auroc_as_recorded(digit, test_set):
    from core import anomaly

    _, _, x, y = test_set
    name = f"oneclass_{digit}"
    auroc = metrics.roc(y != digit, anomaly.score(pretrained.load(name), x, "neg_elbo"))[3]
    assert auroc == pytest.approx(MANIFEST[name]["metrics"]["auroc"], abs=1e-3)


@pytest.mark.parametrize("digit", range(10))
def test_geometric_auroc_as_recorded(digit, test_set):
    from core import anomaly

    _, _, x, y = test_set
    name = f"geometric_{digit}"
    score = anomaly.score(pretrained.load(name), x[:1000], "geometric")  # one forward pass per digit
    assert metrics.roc(y[:1000] != digit, score)[3] == pytest.approx(
        MANIFEST[name]["metrics"]["auroc_first_1000"], abs=1e-4)


def test_manifest_records_how_each_model_was_made():
    for name in SHIPPED:
        e = MANIFEST[name]
        assert e["recipe"] == name and e["eval"]["images"] == 10_000
        if "init" in e:  # a warm restart (--init): where it started is on record, with the epochs before it
            assert e["epochs_total"] == e["init"]["epochs"] + e["epochs"] and len(e["init"]["sha256"]) == 64
            assert e["init"].get("recipe", name) in (name, train.RECIPES[name].grows_from)
        else:
            assert e["epochs"] == train.RECIPES[name].epochs  # trained by the recipe as written
        assert {"tensorflow", "keras", "numpy"} <= set(e["versions"])


def test_shipped_quality_targets():
    seed, ours = MANIFEST["seed_ae"]["metrics"], MANIFEST["unet_global_deeper"]["metrics"]
    deep, wide = MANIFEST["unet_global_deep"]["metrics"], MANIFEST["unet_global_wide"]["metrics"]
    narrow = MANIFEST["unet_global"]["metrics"]
    small = MANIFEST["unet"]["metrics"]
    assert seed["gaussian_0.5"]["psnr"] >= 18.8
    # The issue asks 21.5 dB of our best, met by the model grown from the wide one twice (86 epochs in all
    # on this 2-core CPU); the floors below guard the others, each above the one before it and the seed.
    assert ours["gaussian_0.5"]["psnr"] >= 21.5
    assert deep["gaussian_0.5"]["psnr"] >= 21.45
    assert wide["gaussian_0.5"]["psnr"] >= 21.15
    assert narrow["gaussian_0.5"]["psnr"] >= 20.95
    assert narrow["gaussian_0.5"]["psnr"] >= small["gaussian_0.5"]["psnr"] + 0.4
    for kind in data.NOISE_KINDS:
        for f, v in ours["psnr_by_factor"][kind].items():
            assert v > seed["psnr_by_factor"][kind][f], (kind, f)
            assert v > deep["psnr_by_factor"][kind][f] > wide["psnr_by_factor"][kind][f], (kind, f)
            assert wide["psnr_by_factor"][kind][f] >= narrow["psnr_by_factor"][kind][f], (kind, f)
            assert narrow["psnr_by_factor"][kind][f] >= small["psnr_by_factor"][kind][f], (kind, f)
            assert v >= ours["noisy_psnr_by_factor"][kind][f] + 3, (kind, f)


def test_vae_target():
    # The latent map's VAE: ≤ 147 nats of test negative ELBO (50 epochs of `python -m core.train vae`). Its
    # baseline, the keras.io architecture trained the same way (`python -m core.train vae_keras_io`, ~25
    # min, not shipped), must be ≥ 5 nats worse: too long for the suite, so README records the figure.
    vae = MANIFEST["vae"]
    assert vae["metrics"]["neg_elbo"] <= 147.0
    assert vae["epochs"] == RECIPES["vae"].epochs and vae["params"] == 1_694_565
    assert vae["metrics"]["neg_elbo"] <= 149.05 - 5  # keras.io's, 50 epochs the same way: 149.05 nats


def test_one_class_targets():
    # The target for our detector: mean AUROC ≥ 0.975 over the ten digits, none below 0.93; and
    # above Deep SVDD's published mean. The VAEs' negative ELBO stays a weaker score (1s fool it), shown
    # beside it on the page: it must still beat chance for every digit.
    from core import anomaly

    geometric = [MANIFEST[f"geometric_{d}"]["metrics"]["auroc"] for d in range(10)]
    assert np.mean(geometric) >= 0.975 and min(geometric) >= 0.93
    assert np.mean(geometric) > np.mean(anomaly.DEEP_SVDD)
    assert min(MANIFEST[f"oneclass_{d}"]["metrics"]["auroc"] for d in range(10)) >= 0.75


@pytest.fixture
def damaged(tmp_path):
    folder = tmp_path / "pretrained"
    shutil.copytree(data.PRETRAINED_DIR, folder, ignore=shutil.ignore_patterns("mnist_test.npz"))
    return folder


def test_truncated_weights_are_named_with_the_fix(damaged):
    path = damaged / MANIFEST["unet"]["file"]
    path.write_bytes(path.read_bytes()[:1000])
    status = pretrained.check("unet", folder=damaged)
    assert not status.ok
    assert "unet.weights.h5" in status.problem and "python -m core.train unet" in status.problem
    with pytest.raises(pretrained.PretrainedError, match="damaged"):
        pretrained.load("unet", folder=damaged)
    assert pretrained.check("seed_ae", folder=damaged).ok  # the others keep working


def test_missing_weights_are_named_with_the_fix(damaged):
    (damaged / MANIFEST["seed_ae"]["file"]).unlink()
    with pytest.raises(pretrained.PretrainedError, match=r"missing.*python -m core.train seed_ae"):
        pretrained.load("seed_ae", folder=damaged)


def test_status_reads_no_tensorflow():
    import subprocess
    import sys

    code = "import sys; from core import pretrained; pretrained.status(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=data.ROOT, check=True)
    assert out.stdout.strip() == "False"

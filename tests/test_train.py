"""The training command end to end, on a few hundred digits so it runs in seconds."""
import json

import numpy as np
import pytest

from core import data, pretrained, train


@pytest.mark.parametrize("name", ["seed_ae", "unet", "unet_global"])
def test_train_writes_weights_and_a_complete_manifest_entry(name, small_mnist, tmp_path):
    out = tmp_path / "out"
    rc = train.main([name, "--epochs", "1", "--batch-size", "64", "--data", str(small_mnist), "--out", str(out),
                     "--eval-images", "200"])
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    e = manifest[name]
    assert (out / e["file"]).exists() and e["sha256"] == pretrained.sha256(out / e["file"])
    for field in ("recipe", "options", "data_source", "epochs", "seed", "versions", "date", "metrics", "params"):
        assert field in e
    assert e["epochs"] == 1 and "small.npz" in e["data_source"]
    m = e["metrics"]
    assert set(m["psnr_by_factor"]) == set(data.NOISE_KINDS)
    assert list(m["psnr_by_factor"]["gaussian"]) == [f"{f:.1f}" for f in train.EVAL_FACTORS]
    assert np.isfinite(m["gaussian_0.5"]["psnr"]) and -1 <= m["gaussian_0.5"]["ssim"] <= 1
    # the checked entry loads back through the same path the app uses
    assert pretrained.check(name, folder=out).ok
    assert pretrained.load(name, folder=out).count_params() == e["params"]


def test_unknown_recipe_and_bad_noise_factor(tmp_path, small_mnist, capsys):
    with pytest.raises(SystemExit):
        train.main(["nope"])
    assert train.main(["seed_ae", "--noise-factor", "1.5", "--data", str(small_mnist), "--out", str(tmp_path)]) == 2
    assert "[0, 1]" in capsys.readouterr().err


def test_warm_restart_continues_from_a_recorded_file_and_keeps_its_history(small_mnist, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--batch-size", "64", "--data", str(small_mnist), "--eval-images", "100"]
    assert train.main(["unet", "--epochs", "1", "--out", str(first), *common]) == 0
    start = json.loads((first / "manifest.json").read_text())["unet"]
    weights = first / "unet.weights.h5"
    assert train.main(["unet", "--epochs", "2", "--init", str(weights), "--learning-rate", "2e-4",
                       "--out", str(second), *common]) == 0
    e = json.loads((second / "manifest.json").read_text())["unet"]
    assert e["init"]["sha256"] == start["sha256"] and e["init"]["epochs"] == 1
    assert e["epochs"] == 2 and e["epochs_total"] == 3
    assert "0.0002" in e["options"]["optimizer"]
    # the weights moved on from where they started
    assert e["sha256"] != start["sha256"]
    # a file with no entry beside it (its history unknown) and another recipe's file are refused
    stray = tmp_path / "stray.weights.h5"
    stray.write_bytes(weights.read_bytes())
    assert train.main(["unet", "--init", str(stray), "--out", str(tmp_path / "x"), *common]) == 2
    assert train.main(["seed_ae", "--init", str(weights), "--out", str(tmp_path / "x"), *common]) == 2


@pytest.mark.parametrize("name", [n for n, r in train.RECIPES.items() if r.grows_from])
def test_a_grown_model_starts_exactly_where_its_source_ended(name):
    source = train.RECIPES[train.RECIPES[name].grows_from].build()  # random weights stand in for trained ones
    grown = train.RECIPES[name].build()
    x = data.to_float(data.load_sample()[0][:8])
    assert not np.allclose(source(x).numpy(), grown(x).numpy())
    train.grow(grown, source)
    assert np.array_equal(source(x).numpy(), grown(x).numpy())
    assert grown.count_params() > source.count_params()


def test_growing_refuses_a_model_shaped_differently():
    with pytest.raises(ValueError, match="shape it differently"):  # unet_global is narrower
        train.grow(train.RECIPES["unet_global"].build(), train.RECIPES["unet_global_wide"].build())


def test_grow_from_another_recipes_file_keeps_its_history(small_mnist, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--batch-size", "64", "--data", str(small_mnist), "--eval-images", "100"]
    assert train.main(["unet_global_wide", "--epochs", "1", "--out", str(first), *common]) == 0
    start = json.loads((first / "manifest.json").read_text())["unet_global_wide"]
    assert train.main(["unet_global_deep", "--epochs", "1", "--init", str(first / "unet_global_wide.weights.h5"),
                       "--out", str(second), *common]) == 0
    e = json.loads((second / "manifest.json").read_text())["unet_global_deep"]
    assert e["init"]["recipe"] == "unet_global_wide" and e["init"]["sha256"] == start["sha256"]
    assert e["epochs_total"] == 2 and pretrained.check("unet_global_deep", folder=second).ok
    # growing runs one way only: the smaller recipe cannot start from the larger one's file
    assert train.main(["unet_global_wide", "--init", str(second / "unet_global_deep.weights.h5"),
                       "--out", str(tmp_path / "x"), *common]) == 2


def test_noise_blind_data_is_fresh_every_epoch():
    x = data.to_float(data.load_sample()[0][:64])
    fresh = train.FreshNoise(x, seed=0)
    a, b = fresh.epoch(), fresh.epoch()
    assert a.shape == b.shape == x.shape
    assert not np.array_equal(a, b)
    assert np.array_equal(train.FreshNoise(x, seed=0).epoch(), a)  # and reproducible from the seed


def test_classifier_recipe_trains_and_records_accuracy(small_mnist, tmp_path):
    out = tmp_path / "out"
    assert train.main(["classifier", "--epochs", "1", "--data", str(small_mnist), "--out", str(out),
                       "--eval-images", "300"]) == 0
    e = json.loads((out / "manifest.json").read_text())["classifier"]
    m = e["metrics"]
    assert 0 <= m["accuracy"] <= 1 and m["errors"] == round((1 - m["accuracy"]) * 300)
    assert set(m["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert e["options"]["noise"].startswith("none")
    assert pretrained.check("classifier", folder=out).ok
    assert "classifier" not in pretrained.denoisers(json.loads((out / "manifest.json").read_text()))

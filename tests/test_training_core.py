"""The training bench's core (issue 14): the conv autoencoder builder and its limits, live training in a
thread (pause, resume, stop, the job queue), the exported .py, the CLI recipe 'yours', looking inside."""
import contextlib
import importlib.util
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from core import data, export, inside, livetrain, models, recipes, train

SWEEP = [  # (settings, why it is here)
    dict(), dict(stages=1, filters=(16,)), dict(stages=3, filters=(16, 32, 64)),
    dict(stages=1, filters=(4,), code_size=1), dict(stages=3, filters=(128, 128, 128), code_size=256),
    dict(stages=2, filters=(4, 128), skips=True), dict(stages=3, filters=(8, 16, 24), skips=True),
    dict(stages=1, filters=(8,), bottleneck="dense", code_size=2),
    dict(stages=1, filters=(4,), bottleneck="dense", code_size=256),
    dict(stages=2, filters=(16, 32), bottleneck="dense", code_size=32),
    dict(stages=3, filters=(16, 32, 64), bottleneck="dense", code_size=128),  # 4×4 map, cropped back to 7
    dict(stages=3, filters=(128, 64, 4), bottleneck="dense", code_size=2, skips=True),
    dict(stages=2, filters=(16, 32), bottleneck="dense", code_size=64, skips=True),
    dict(stages=1, filters=(32,), bottleneck="dense", code_size=16, skips=True, convs=2),
    dict(stages=2, filters=(8, 8), convs=2), dict(stages=3, filters=(4, 4, 4), convs=2, skips=True),
    dict(stages=3, filters=(24, 48, 96), bottleneck="dense", code_size=200, convs=2, skips=True),
    dict(output_activation="clip"), dict(stages=3, filters=(8, 8, 8), output_activation="clip", skips=True),
    dict(stages=1, filters=(128,), convs=2, skips=True, code_size=256),
    dict(stages=2, filters=(5, 7), bottleneck="dense", code_size=3, output_activation="clip"),
    dict(filters=np.array([16, 32]), stages=np.int64(2)),  # numpy integers from a widget
]


@pytest.mark.parametrize("settings", SWEEP)
def test_parameter_count_is_worked_out_without_building_and_matches_keras(settings):
    assert models.conv_autoencoder_problems(**settings) == []
    m = models.conv_autoencoder(**settings)
    assert models.conv_autoencoder_params(**settings) == m.count_params()
    assert m.output_shape == (None, 28, 28, 1)
    names = {layer.name for layer in m.layers}
    assert {"noisy_digit", "enc1_conv", "enc1_pool", "code", "dec1_up", "dec1_conv", "clean_digit"} <= names
    assert ("skip1" in names) == bool(settings.get("skips"))


def test_default_and_bench_recipe_agree():
    assert recipes.BENCH_RECIPES["yours"].options == models.CONV_AE_DEFAULTS
    assert models.conv_autoencoder().name == "yours"


INVALID = [  # (settings, problem key, words the message must hold)
    (dict(stages=0, filters=()), "stages", "from 1 to 3"), (dict(stages=4, filters=(8,) * 4), "stages", "not 4"),
    (dict(stages=2.0), "stages", "not 2.0"), (dict(stages=True, filters=(8,)), "stages", "True"),
    (dict(stages=2, filters=(16, 32, 64)), "filters_count", "2 stage(s) need 2"),
    (dict(stages=3, filters=(16, 32)), "filters_count", "not 2"),
    (dict(filters=(3, 32)), "filters", "Stage 1's filters"), (dict(filters=(16, 129)), "filters", "Stage 2"),
    (dict(filters=(16, "x")), "filters", "'x'"),
    (dict(bottleneck="global"), "bottleneck", "'global'"),
    (dict(bottleneck="dense", code_size=1), "code_size_dense", "from 2 to 256"),
    (dict(bottleneck="dense", code_size=257), "code_size_dense", "not 257"),
    (dict(code_size=0), "code_size_channels", "from 1 to 256"),
    (dict(skips=2), "skips", "on or off"), (dict(convs=3), "convs", "1 or 2"),
    (dict(output_activation="linear"), "output", "sigmoid, clip"), (dict(output_activation="tanh"), "output", "tanh"),
    (dict(name="my model"), "name", "identifier"), (dict(colour="red"), "unknown", "'colour'"),
    (dict(stages=1, filters=(128,), bottleneck="dense", code_size=256), "params", "13,020,417"),
]


@pytest.mark.parametrize("settings,key,words", INVALID)
def test_every_invalid_setting_gets_its_message_before_anything_is_built(settings, key, words):
    problems = models.conv_autoencoder_problems(**settings)
    assert [p.key for p in problems] == [key], problems
    assert words in problems[0] and len(problems[0]) > 30  # a sentence, not a code
    if key not in ("params", "unknown"):
        with pytest.raises(ValueError) as err:
            models.conv_autoencoder(**settings)
        assert words in str(err.value)


def test_all_problems_at_once_and_the_cap_is_named_once():
    problems = models.conv_autoencoder_problems(stages=2, filters=(2, 500), bottleneck="dense", code_size=999,
                                                convs=0, output_activation="relu")
    assert [p.key for p in problems] == ["filters", "filters", "convs", "code_size_dense", "output"]
    assert models.MAX_TRAIN_PARAMS == 3_000_000
    assert models.conv_autoencoder_problems(stages=1, filters=(128,), bottleneck="dense", code_size=256,
                                            max_params=None) == []


def test_training_settings_are_held_to_the_limits():
    assert livetrain.training_problems(10, 64, 1e-3) == []
    keys = [p.key for p in livetrain.training_problems(0, 8, 1.0, noise="pink")]
    assert keys == ["epochs", "batch_size", "learning_rate", "noise"]
    assert [p.key for p in livetrain.training_problems(51, 513, 1e-6)] == ["epochs", "batch_size", "learning_rate"]
    with pytest.raises(ValueError, match="Epochs must"):
        livetrain.LiveTraining(models.conv_autoencoder, (np.zeros((4, 28, 28, 1)),) * 2, epochs=100)


def test_arch_text_round_trips():
    s = dict(stages=3, filters=(8, 16, 24), bottleneck="dense", code_size=16, skips=True, convs=2,
             output_activation="clip")
    text = recipes.format_arch(s)
    assert text == "stages=3,filters=8/16/24,bottleneck=dense,code_size=16,skips=1,convs=2,output=clip"
    assert recipes.parse_arch(text) == s
    assert recipes.parse_arch("stages=x,filters=8/y,skips=maybe") == dict(stages="x", filters=(8, "y"), skips="maybe")


# ─── live training ──────────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def digits():
    return data.to_float(data.load_sample()[0][:400])


def small():
    return models.conv_autoencoder(stages=2, filters=(8, 16), code_size=8)


def test_two_epochs_fill_the_curves_and_the_filmstrip(digits):
    job = livetrain.LiveTraining(small, (digits[:300], digits[300:]), noise="blind", epochs=2, batch_size=32,
                                 report_every=3)
    assert job.state == "new" and job.film_noisy.shape == job.film_clean.shape == (8, 28, 28, 1)
    job.start()
    assert job.join(60) and job.state == "done", job.error
    h = job.history
    assert [e["epoch"] for e in h] == [1, 2]
    for e in h:
        assert np.isfinite([e["loss"], e["val_loss"], e["val_psnr"]]).all() and e["seconds"] > 0
    frames = job.frames
    assert len(frames) == 2 and frames[0].shape == (8, 28, 28, 1) and 0 <= frames[1].min() <= frames[1].max() <= 1
    b = job.batches
    assert len(b) == 2 * (10 // 3) and b[0]["step"] == 3 and b[-1]["epoch"] == pytest.approx(1 + 9 / 10)
    assert job.params == models.conv_autoencoder_params(stages=2, filters=(8, 16), code_size=8)
    assert job.started_at <= job.first_frame_at and not job.is_alive()
    # validation is the fixed Gaussian 0.5 draw, the same for every job
    assert np.array_equal(job.film_noisy, livetrain.val_noise(digits[300:])[:8])


def _wait(predicate, seconds=30):
    end = time.time() + seconds
    while not predicate():
        assert time.time() < end, "timed out"
        time.sleep(0.02)


def test_pause_resume_and_stop_really_stops(digits):
    job = livetrain.LiveTraining(small, (digits[:300], digits[300:]), epochs=50, batch_size=16)
    job.start()
    _wait(lambda: job.batch >= 2 or job.epoch >= 1)
    job.pause()
    _wait(lambda: job.state == "paused")
    time.sleep(0.3)  # let the batch in flight finish
    where = (job.epoch, job.batch)
    time.sleep(0.5)
    assert (job.epoch, job.batch) == where and job.is_alive()  # paused means no batch runs
    job.resume()
    _wait(lambda: (job.epoch, job.batch) != where)
    assert job.state == "running"
    job.stop()
    assert job.join(30) and not job.is_alive() and job.state == "stopped"
    assert len(job.history) < 50
    out = np.asarray(job.model(digits[:2], training=False))  # the model stays usable
    assert out.shape == (2, 28, 28, 1) and np.isfinite(out).all()


def test_a_paused_job_stops_too(digits):
    job = livetrain.LiveTraining(small, (digits[:100], digits[300:]), epochs=50, batch_size=16)
    job.start()
    job.pause()
    _wait(lambda: job.state == "paused" and job.model is not None)
    job.stop()
    assert job.join(30) and job.state == "stopped"


def test_a_queued_job_waits_in_the_slot_and_can_leave_the_line(digits):
    free = threading.Event()
    waits = []

    @contextlib.contextmanager
    def slot(on_wait=None):  # like ui.jobs.slot: on_wait about every poll while no place is free
        while not free.is_set():
            on_wait(1, 0.0)
            waits.append(1)
            time.sleep(0.02)
        yield

    job = livetrain.LiveTraining(small, (digits[:64], digits[300:]), epochs=1, batch_size=32, slot=slot)
    job.start()
    _wait(lambda: len(waits) > 2)
    assert job.state == "queued" and job.queue == (1, 0.0) and job.model is None
    job.stop()
    assert job.join(10) and job.state == "stopped" and job.model is None  # never built

    job = livetrain.LiveTraining(small, (digits[:64], digits[300:]), epochs=1, batch_size=32, slot=slot)
    job.start()
    _wait(lambda: job.state == "queued")
    free.set()
    assert job.join(60) and job.state == "done" and len(job.frames) == 1


def test_a_paused_job_gives_its_place_to_the_next_in_line_and_lines_up_again_on_resume(digits, monkeypatch):
    from ui import jobs

    monkeypatch.setattr(jobs, "LIMIT", 1)
    first = livetrain.LiveTraining(small, (digits[:300], digits[300:]), epochs=50, batch_size=16, slot=jobs.slot)
    second = livetrain.LiveTraining(small, (digits[:300], digits[300:]), epochs=50, batch_size=16, slot=jobs.slot)
    try:
        first.start()
        _wait(lambda: first.batch >= 1 or first.epoch >= 1)
        second.start()
        _wait(lambda: second.state == "queued" and second.queue is not None)
        first.pause()  # one student pauses: the next in line trains meanwhile
        _wait(lambda: first.state == "paused" and second.state == "running" and second.batch >= 1)
        assert jobs.running() == 1
        first.resume()  # back in line behind the one now training
        _wait(lambda: first.state == "queued")
        where = (first.epoch, first.batch)
        time.sleep(0.5)
        assert (first.epoch, first.batch) == where and second.state == "running"
        second.stop()
        assert second.join(30) and second.state == "stopped"
        _wait(lambda: first.state == "running" and (first.epoch, first.batch) != where)
        first.pause()
        _wait(lambda: first.state == "paused" and jobs.running() == 0)  # paused: no place held
        first.stop()  # a paused job that stops never lines up again
        assert first.join(30) and first.state == "stopped" and jobs.running() == 0 and jobs.waiting() == 0
    finally:
        for job in (first, second):
            job.stop()
            job.join(30)


def test_a_failing_build_is_reported(digits):
    def broken():
        raise RuntimeError("no such layer")

    job = livetrain.LiveTraining(broken, (digits[:64], digits[300:]), epochs=1)
    job.start()
    assert job.join(30) and job.state == "failed" and "no such layer" in job.error


# ─── take it home ───────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("settings", [
    dict(stages=3, filters=(8, 16, 24), bottleneck="dense", code_size=16, skips=True, convs=2,
         output_activation="clip"),
    {"builder": "seed_autoencoder"},
])
def test_the_exported_python_file_rebuilds_the_model_and_loads_its_weights(settings, tmp_path, digits):
    model = export.build(settings)
    model.compile(optimizer="adam", loss="binary_crossentropy")  # as a trained model is
    model.fit(digits[:32], digits[:32], epochs=1, batch_size=32, verbose=0)
    (tmp_path / "yours.weights.h5").write_bytes(export.weights_bytes(model))
    (tmp_path / "yours.py").write_text(export.python_source(settings, "yours.weights.h5"), encoding="utf-8")
    run = subprocess.run([sys.executable, "yours.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"parameters: {model.count_params()}" in run.stdout.splitlines()
    spec = importlib.util.spec_from_file_location("yours_export", tmp_path / "yours.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build_model()
    rebuilt.load_weights(tmp_path / "yours.weights.h5")
    assert np.array_equal(np.asarray(rebuilt(digits[:4])), np.asarray(model(digits[:4])))  # the same model
    source = (tmp_path / "yours.py").read_text(encoding="utf-8")
    assert "import core" not in source and "from core" not in source


def test_export_refuses_a_model_it_cannot_write():
    with pytest.raises(ValueError, match="not a plain Keras layer"):
        export.python_source({"builder": "digit_classifier"})  # its stroke-width augmentation is the lab's own


def test_the_shown_command_trains_the_same_recipe_from_the_shell(small_mnist, tmp_path):
    settings = dict(stages=3, filters=(8, 16, 24), bottleneck="dense", code_size=16, skips=True,
                    output_activation="clip")
    command = export.train_command(settings, "blind", epochs=1, batch_size=64, learning_rate=2e-3, out="trained")
    assert command == ("python -m core.train yours --arch stages=3,filters=8/16/24,bottleneck=dense,code_size=16,"
                       "skips=1,convs=1,output=clip --noise blind --learning-rate 0.002 --epochs 1 --batch-size 64 "
                       "--out trained")
    args = command.split()[3:]
    args[args.index("--out") + 1] = str(tmp_path / "out")
    assert train.main([*args, "--data", str(small_mnist), "--eval-images", "100"]) == 0
    e = json.loads((tmp_path / "out" / "manifest.json").read_text())["yours"]
    assert e["params"] == models.conv_autoencoder_params(**settings)
    assert e["options"]["arch"]["filters"] == [8, 16, 24] and e["options"]["optimizer"] == "adam, constant 0.002"
    assert e["options"]["noise"].startswith("blind")
    assert train.main(["yours", "--arch", "stages=4", "--data", str(small_mnist), "--out", str(tmp_path)]) == 2
    assert train.main(["unet", "--arch", "stages=2", "--data", str(small_mnist), "--out", str(tmp_path)]) == 2


def test_commands_for_the_shipped_recipes():
    seed = {"builder": "seed_autoencoder"}
    assert export.train_command(seed, "gaussian_0.5", 10, 64, 1e-3) == \
        "python -m core.train seed_ae --epochs 10 --batch-size 64 --out trained"
    assert export.train_command({"builder": "unet_denoiser"}, "blind", 5, 64, 1e-3) == \
        "python -m core.train unet --learning-rate 0.001 --schedule constant --epochs 5 --batch-size 64 --out trained"
    assert "--noise once --noise-kind gaussian --noise-factor 0.5" in export.train_command(
        {"builder": "unet_denoiser"}, "gaussian_0.5", 5, 64, 1e-3)


# ─── look inside ────────────────────────────────────────────────────────────────────────────────────

def test_every_layers_output_and_the_code(digits):
    seed = models.seed_autoencoder()
    outs = inside.layer_outputs(seed, digits[:3])
    assert [name for name, _ in outs] == [layer.name for layer in seed.layers[1:]]
    shapes = dict((name, out.shape) for name, out in outs)
    assert shapes["enc_conv16"] == (3, 28, 28, 16) and shapes["code_128d"] == (3, 128)
    assert shapes["dec_conv16_valid"] == (3, 14, 14, 16) and shapes["clean_digit"] == (3, 28, 28, 1)
    assert inside.code_of(seed, digits[0]).shape == (1, 128)

    m = models.conv_autoencoder(stages=3, filters=(8, 16, 24), skips=True, code_size=5)
    shapes = dict((name, out.shape) for name, out in inside.layer_outputs(m, digits[:2]))
    assert shapes["code"] == (2, 4, 4, 5) and shapes["dec3_up"] == (2, 8, 8, 5) and shapes["dec3_crop"] == (2, 7, 7, 5)
    assert shapes["skip3"] == (2, 7, 7, 29) and shapes["clean_digit"] == (2, 28, 28, 1)
    dense = models.conv_autoencoder(bottleneck="dense", code_size=7)
    assert inside.code_of(dense, digits[:2]).shape == (2, 7)
    last = inside.layer_outputs(dense, digits[:2])[-1][1]
    assert np.allclose(last, np.asarray(dense(digits[:2], training=False)), atol=1e-6)
    assert inside.code_layer(models.unet_denoiser()) == "bottleneck_conv2"
    assert inside.code_layer(models.digit_classifier()) == "dense128"
    classifier = models.digit_classifier()  # its augmentation layers are identities at inference: left out
    names = [name for name, _ in inside.layer_outputs(classifier, digits[:1])]
    assert not any(n.startswith("aug_") for n in names) and names[0] == classifier.layers[5].name
    with pytest.raises(ValueError, match="not a functional model"):
        inside.layer_outputs(models.vae(), digits[:1])


# ─── yours on the denoising chart: measured as the shipped models are ─────────────────────────────────

def _psnr_by_factor_before(model, x_uint8, batch_size=500):
    """core.train.evaluate's loop as it was before it became core.train.psnr_by_factor, kept to compare with."""
    from core import metrics
    from core.pretrained import compiled_forward

    x, forward = data.to_float(x_uint8), compiled_forward(model)
    out = {"psnr_by_factor": {}, "noisy_psnr_by_factor": {}}
    for kind in data.NOISE_KINDS:
        out["psnr_by_factor"][kind], out["noisy_psnr_by_factor"][kind] = {}, {}
        for f in train.EVAL_FACTORS:
            noisy = data.add_noise(x, f, kind, seed=train.EVAL_SEED)
            recon = np.concatenate([forward(noisy[i:i + batch_size]) for i in range(0, len(noisy), batch_size)])
            out["psnr_by_factor"][kind][f"{f:.1f}"] = round(float(metrics.psnr(x, recon).mean()), 3)
            out["noisy_psnr_by_factor"][kind][f"{f:.1f}"] = round(float(metrics.psnr(x, noisy).mean()), 3)
    return out


def test_the_factored_psnr_by_factor_gives_the_figures_the_evaluation_gave_before():
    from core import pretrained

    seed = pretrained.load("seed_ae")
    x = data.load_sample()[0][:300]
    before = _psnr_by_factor_before(seed, x)
    after = train.evaluate(seed, x)
    assert after["psnr_by_factor"] == before["psnr_by_factor"]  # exactly: the manifest's figures stay the same
    assert after["noisy_psnr_by_factor"] == before["noisy_psnr_by_factor"]
    assert list(after["psnr_by_factor"]) == list(data.NOISE_KINDS)  # and in the manifest's order
    assert list(after["psnr_by_factor"]["gaussian"]) == [f"{f:.1f}" for f in train.EVAL_FACTORS]
    pairs = list(train.psnr_by_factor(pretrained.compiled_forward(seed), data.to_float(x), noisy_psnr=False))
    assert len(pairs) == len(data.NOISE_KINDS) * len(train.EVAL_FACTORS)
    assert {(k, f): p for k, f, p, _ in pairs} == {(k, f): p for k, by in before["psnr_by_factor"].items()
                                                   for f, p in by.items()}
    assert all(n is None for *_, n in pairs)
    by = before["psnr_by_factor"]["gaussian"]
    assert by["0.1"] > by["0.9"]  # more noise, a worse rebuild: the figures mean something


def test_the_curve_of_yours_fills_to_its_total_and_matches_a_direct_measurement():
    from core.pretrained import compiled_forward
    from ui import jobs
    from ui import training as session

    model = models.conv_autoencoder(stages=1, filters=(4,), code_size=2)
    x = data.load_sample()[0]
    seen = []

    def forward(batch):
        seen.append(len(batch))
        return compiled_forward(model)(batch)

    curve = session.PsnrCurve(forward, x, images=120, batch_size=50, slot=jobs.slot)
    assert curve.total == len(data.NOISE_KINDS) * len(train.EVAL_FACTORS) and curve.done == 0
    assert not curve.finished and curve.images == 120
    curve.start()
    assert curve.join(60) and curve.finished and not curve.stopped and curve.error is None
    assert curve.done == curve.total
    assert curve.psnr_by_factor == train.evaluate(model, x[:120])["psnr_by_factor"]
    assert set(seen) == {50, 20}  # the first 120 digits only, in the batches asked for
    assert jobs.running() == 0  # its job place is given back


def test_the_curve_stops_between_batches_and_leaves_the_queue_and_reports_a_failure():
    from ui import jobs
    from ui import training as session

    x = data.load_sample()[0][:40]
    release, reached = threading.Event(), threading.Event()

    def slow(batch):  # the first batch waits until the test has asked the curve to stop
        reached.set()
        release.wait(10)
        return batch

    curve = session.PsnrCurve(slow, x, batch_size=10, slot=jobs.slot).start()
    assert reached.wait(30)
    curve.stop()
    release.set()
    assert curve.join(30) and curve.finished and curve.stopped and curve.error is None
    assert curve.done == 0 and curve.psnr_by_factor == {}  # it stopped inside the first pair, not after the loop
    assert jobs.running() == 0

    gone = [False]  # its session has ended: it stops too
    curve = session.PsnrCurve(lambda b: b, x, alive=lambda: not gone[0], slot=jobs.slot)
    gone[0] = True
    curve.start()
    assert curve.join(30) and curve.stopped and curve.done == 0

    with jobs.slot():  # the server's one place is taken: the curve waits in line, and can leave it
        curve = session.PsnrCurve(lambda b: b, x, slot=jobs.slot).start()
        _wait(lambda: curve.queue is not None)
        assert curve.queue[0] >= 1 and not curve.finished
        curve.stop()
        assert curve.join(30) and curve.stopped and curve.queue is None and curve.done == 0
    assert jobs.waiting() == 0

    def broken(batch):
        raise RuntimeError("no model here")

    curve = session.PsnrCurve(broken, x, slot=jobs.slot).start()
    assert curve.join(30) and curve.finished and not curve.stopped
    assert curve.error == "RuntimeError: no model here" and curve.done == 0

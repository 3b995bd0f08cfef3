"""Denoiser benchmark: quality on the shipped test digits and the app's call path against predict().

    python bench/denoise.py [--images N] [--repeats 50]

Prints, per shipped denoiser: parameters; PSNR / SSIM at each noise factor and kind (EVAL_SEED noise,
as the manifest); and milliseconds for one 10-digit forward pass via core.pretrained.compiled_forward (what
the app calls) versus model.predict on the same batch, median of `repeats`, with their ratio.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import data, metrics, pretrained, train  # noqa: E402


def median_ms(fn, repeats):
    fn()  # warm: tracing and first-call allocation are not what a slider move pays
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=50)
    a = p.parse_args(argv)
    x = data.to_float(data.load_sample()[0][:a.images])
    factors = (0.0,) + train.EVAL_FACTORS + (1.0,)
    noisy = {(k, f): data.add_noise(x, f, k, seed=train.EVAL_SEED) for k in data.NOISE_KINDS for f in factors}
    batch10 = noisy[("gaussian", 0.5)][:10]

    names = pretrained.denoisers()
    print(f"{len(x)} test digits, noise seed {train.EVAL_SEED}\n")
    w = max(len(n) for n in ["noisy input", *names])  # the longest name, uncut
    header = f"{'model':<{w}} {'kind':<16}" + "".join(f"{f:>13.1f}" for f in factors)
    print("PSNR dB / SSIM per noise_factor\n" + header)
    rows = {"noisy input": None, **{n: pretrained.load(n) for n in names}}
    for label, model in rows.items():
        forward = pretrained.compiled_forward(model) if model is not None else None
        for k in data.NOISE_KINDS:
            cells = []
            for f in factors:
                out = noisy[(k, f)] if forward is None else np.concatenate(
                    [forward(noisy[(k, f)][i:i + 500]) for i in range(0, len(x), 500)])
                ps = metrics.psnr(x, out)
                ps_txt = "inf" if np.isinf(ps).all() else f"{ps[np.isfinite(ps)].mean():.2f}"
                cells.append(f"{ps_txt}/{metrics.ssim(x, out).mean():.3f}")
            print(f"{label:<{w}} {k:<16}" + "".join(f"{c:>13}" for c in cells), flush=True)

    print(f"\nOne 10-digit forward pass, median of {a.repeats} (ms)")
    print(f"{'model':<{w}} {'params':>9} {'app path':>10} {'predict':>10} {'ratio':>7}")
    for n in names:
        model = rows[n]
        fast = pretrained.compiled_forward(model)
        ours = median_ms(lambda: fast(batch10), a.repeats)
        theirs = median_ms(lambda: model.predict(batch10, verbose=0), a.repeats)
        print(f"{n:<{w}} {model.count_params():>9,} {ours:>10.2f} {theirs:>10.2f} {theirs / ours:>6.1f}×")


if __name__ == "__main__":
    main()

"""Does the lab read a digit handed in as a picture as well as an MNIST one?

    python bench/preprocess.py [--images N] [--seed 0]

Every test digit is redrawn as a 280×280 dark-on-white picture (core.preprocess.on_paper) with a random
pen width change, size and position, sent back through core.preprocess.to_mnist, and classified by the
shipped classifier. Prints the accuracy on those pictures beside the accuracy on the original 28×28
digits, and how often each kind of redrawing went wrong.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import data, preprocess, pretrained  # noqa: E402

SIDE = 280
STROKES = (-3, -2, -1, 0, 1, 2, 3, 4, 5, 6)  # pen radius change in picture pixels; 10 px = 1 MNIST px
SIZES = (0.45, 0.9)  # the digit's 20-px box as a fraction of the picture
SHIFT = 0.9  # up to 90 % of the room around the digit, either way


def redraw(x_u8, rng):
    """Each digit on paper with random pen, size and place; returns the 28×28 results and the draws."""
    out = np.empty((len(x_u8), 28, 28), np.float32)
    strokes = rng.choice(STROKES, len(x_u8))
    sizes = rng.uniform(*SIZES, len(x_u8))
    shifts = rng.uniform(-SHIFT, SHIFT, (len(x_u8), 2))
    for i, digit in enumerate(x_u8):
        picture = preprocess.on_paper(digit, SIDE, sizes[i], int(strokes[i]), shifts[i])
        out[i] = preprocess.to_mnist(picture).image
    return out, strokes, sizes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    x_u8, y = (arr[:a.images] for arr in data.load_sample())
    classify = pretrained.forward("classifier")

    def accuracy(x):
        pred = np.concatenate([classify(x[i:i + 500, ..., None]) for i in range(0, len(x), 500)]).argmax(1)
        return pred == y

    t0 = time.perf_counter()
    redrawn, strokes, sizes = redraw(x_u8, np.random.default_rng(a.seed))
    seconds = time.perf_counter() - t0
    right_orig, right_redrawn = accuracy(data.to_float(x_u8)[..., 0]), accuracy(redrawn)
    print(f"{len(y):,} test digits, redrawn as {SIDE}×{SIDE} pictures and preprocessed in {seconds:.1f} s "
          f"({seconds / len(y) * 1000:.1f} ms each)")
    print(f"  accuracy on the original 28×28 digits:   {right_orig.mean():.2%} ({(~right_orig).sum()} errors)")
    print(f"  accuracy on the redrawn {SIDE}×{SIDE} pictures: {right_redrawn.mean():.2%} "
          f"({(~right_redrawn).sum()} errors)")
    print("  by pen change (picture px):  " + "  ".join(
        f"{s:+d}: {right_redrawn[strokes == s].mean():.2%}" for s in STROKES if (strokes == s).any()))
    small = sizes < np.median(sizes)
    print(f"  smaller half of sizes: {right_redrawn[small].mean():.2%};  larger half: {right_redrawn[~small].mean():.2%}")


if __name__ == "__main__":
    main()

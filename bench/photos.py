"""Are digits photographed on paper read right? core.photo's phone photos through core.preprocess.

    python bench/photos.py [--photos 1000] [--seed 0] [--worst 8] [--save-worst DIR]

Each photo is a test digit written dark on grey paper and photographed in uneven light (core.photo: gradient,
vignetting, a corner shadow, tilt, off-centre, specks, the table's edge, blur, noise, JPEG 60-89). Prints the
classifier's accuracy on them per digit, the confusion between digits, how many photos were refused, and the
worst cases (the right digit's probability lowest); --save-worst writes those photos and their steps.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import data, photo, preprocess, pretrained  # noqa: E402


def read(photos, classify):
    """(predicted digit or -1 when refused, probabilities) for each photo, and the refusals' reasons."""
    images, refused = np.zeros((len(photos), 28, 28, 1), np.float32), {}
    for i, (jpeg, _) in enumerate(photos):
        try:
            images[i, ..., 0] = preprocess.to_mnist(jpeg).image
        except preprocess.PreprocessError as exc:
            refused[i] = exc.reason
    probabilities = np.concatenate([classify(images[i:i + 500]) for i in range(0, len(images), 500)])
    predicted = probabilities.argmax(1)
    predicted[list(refused)] = -1
    return predicted, probabilities, refused


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--worst", type=int, default=8)
    p.add_argument("--save-worst", type=Path)
    a = p.parse_args(argv)
    x, y = data.load_sample()
    t0 = time.perf_counter()
    photos = photo.photo_set(x, y, a.photos, seed=a.seed)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    predicted, probabilities, refused = read(photos, pretrained.forward("classifier"))
    seconds = time.perf_counter() - t0
    labels = np.array([d for _, d in photos])
    right = predicted == labels
    print(f"{len(photos):,} photographed digits (made in {made:.1f} s), preprocessed and read in {seconds:.1f} s "
          f"({seconds / len(photos) * 1000:.0f} ms each)")
    print(f"  read right: {right.mean():.1%}   refused: {len(refused)}"
          + (f" ({', '.join(sorted(set(refused.values())))})" if refused else ""))
    print("  per digit:  " + "  ".join(f"{d}: {right[labels == d].mean():.0%}" for d in range(10)))
    print("  confusion (rows: true digit, columns: read as; '-' refused):")
    print("        " + " ".join(f"{d:>4}" for d in range(10)) + "    -")
    for d in range(10):
        row = [int(((labels == d) & (predicted == c)).sum()) for c in range(10)]
        print(f"     {d}: " + " ".join(f"{n:>4}" if n else "   ." for n in row)
              + f" {int(((labels == d) & (predicted == -1)).sum()):>4}")
    own = probabilities[np.arange(len(labels)), labels]
    own[list(refused)] = -1
    worst = np.argsort(own)[:a.worst]
    print(f"  worst {len(worst)}: " + ", ".join(
        f"#{i} a {labels[i]} read {predicted[i] if predicted[i] >= 0 else 'refused'} ({own[i]:.0%})" for i in worst))
    if a.save_worst:
        from PIL import Image

        a.save_worst.mkdir(parents=True, exist_ok=True)
        for i in worst:
            (a.save_worst / f"photo_{i}_a{labels[i]}.jpg").write_bytes(photos[i][0])
            if i not in refused:
                steps = preprocess.to_mnist(photos[i][0]).steps
                for k, (name, step) in enumerate(steps):
                    Image.fromarray((np.clip(step, 0, 1) * 255).astype(np.uint8)).save(
                        a.save_worst / f"photo_{i}_{k}_{name}.png")
        print(f"  saved to {a.save_worst}")
    return right.mean()


if __name__ == "__main__":
    main()

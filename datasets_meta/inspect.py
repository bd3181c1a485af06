"""Prints what a dataset holds and writes a PNG grid of sample images per class.

    python -m datasets_meta.inspect mnist --data_dir ../shared/data
    python -m datasets_meta.inspect folder:/path/to/tree --out tree.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from datasets_meta.base import DatasetError
from datasets_meta.dataset import SPLIT_NAMES, Dataset
from datasets_meta.registry import known_names, load


def sample_grid(dataset: Dataset, per_class: int = 8, seed: int = 0) -> np.ndarray:
    """uint8 [classes * H, per_class * W, C] mosaic of train images, one row per class."""
    rng = np.random.default_rng(seed)
    images, labels = dataset.arrays("train")
    h, w, c = dataset.image_shape
    grid = np.zeros((dataset.num_classes * h, per_class * w, c), np.uint8)
    for cls in range(dataset.num_classes):
        members = np.flatnonzero(labels == cls)
        for j, i in enumerate(rng.choice(members, min(per_class, len(members)), replace=False)):
            grid[cls * h:(cls + 1) * h, j * w:(j + 1) * w] = images[i]
    return grid


def save_grid(dataset: Dataset, path: Path, per_class: int = 8) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = sample_grid(dataset, per_class)
    h = dataset.image_shape[0]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * per_class, 0.6 * dataset.num_classes + 0.8))
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", interpolation="nearest")
    ax.set_yticks([(i + 0.5) * h for i in range(dataset.num_classes)])
    ax.set_yticklabels(dataset.class_names, fontsize=7)
    ax.set_xticks([])
    ax.set_title(f"{dataset.name}: {per_class} train images per class", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def describe(dataset: Dataset) -> str:
    lines = [f"dataset      {dataset.name}"]
    for key in ("source", "path", "note", "checksum", "decode_cache", "original_shape",
                "image_shape", "val_split", "test_split"):
        if dataset.metadata.get(key):
            lines.append(f"{key:<12} {dataset.metadata[key]}")
    sizes = dataset.sizes()
    lines.append("sizes        " + ", ".join(f"{s} {sizes[s]:,}" for s in SPLIT_NAMES))
    lines.append(f"mean / std   {[round(float(m), 4) for m in dataset.mean]} / {[round(float(s), 4) for s in dataset.std]}")
    lines.append(f"classes      {dataset.num_classes}")
    counts = dataset.class_counts("train")
    for i, name in enumerate(dataset.class_names):
        lines.append(f"  {i:>3}  {name:<20} {counts[i]:>7,} train")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datasets_meta.inspect", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help=f"one of {', '.join(known_names())}, or folder:/path")
    parser.add_argument("--data_dir", default=None, help="raw data folder (default $DIMO_DATA_DIR)")
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--per_class", type=int, default=8)
    parser.add_argument("--out", default=None, help="PNG path (default <name>_samples.png)")
    parser.add_argument("--no_download", action="store_true", help="never download through TFDS")
    args = parser.parse_args(argv)
    try:
        dataset = load(args.name, args.data_dir, image_size=args.image_size,
                       download=False if args.no_download else None)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(describe(dataset))
    out = Path(args.out or f"{dataset.name}_samples.png")
    save_grid(dataset, out, args.per_class)
    print(f"sample grid  {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a run reports about its proposals: the decoded cell per dataset and the run's plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dimo.space import search_space


def arch_summary(arch_weights: np.ndarray, lr_scale: float, weight_decay: float) -> dict:
    weights = np.asarray(arch_weights)
    return {"genotype": str(search_space.discretize(weights)),
            "edge_op_probabilities": {f"{t}<-{s}": dict(zip(search_space.OPS, np.round(row, 4).tolist()))
                                      for (t, s), row in zip(search_space.EDGES, weights)},
            "lr_scale": float(lr_scale), "weight_decay": float(weight_decay)}


def plot_meta_loss(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    losses = [r["meta_loss"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, lw=0.8, alpha=0.5, label="meta-loss")
    if len(losses) >= 10:
        width = max(len(losses) // 20, 2)
        smooth = np.convolve(losses, np.ones(width) / width, mode="valid")
        ax.plot(steps[width - 1:], smooth, lw=2, label=f"moving mean ({width})")
    ax.set_xlabel("meta-step")
    ax.set_ylabel("meta-loss (tasks' validation loss,\nweighted)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_arch_heatmap(arch_weights: np.ndarray, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = np.asarray(arch_weights)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=max(float(weights.max()), 1e-6))
    ax.set_xticks(range(search_space.NUM_OPS))
    ax.set_xticklabels(search_space.OPS, rotation=25, ha="right", fontsize=8)
    ax.set_yticks(range(search_space.NUM_EDGES))
    ax.set_yticklabels([f"{s}->{t}" for t, s in search_space.EDGES], fontsize=8)
    for (i, j), value in np.ndenumerate(weights):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value < 0.6 * weights.max() else "black")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""Ask a meta-trained DiMO for an architecture and training recipe for a dataset.

No training happens: load a support set, embed it, decode, discretize.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import numpy as np

from datasets_meta import load as load_dataset
from dimo.meta import system as system_lib
from dimo.meta.report import arch_summary
from dimo.meta.support_sets import PROPOSAL_SHOTS, reference_support
from dimo.meta.trained import Trained
from dimo.space import search_space
from dimo.space.cost import network_cost
from dimo.space.supernet import Supernet


def propose(trained: Trained, dataset_name: str, data_dir=None, seed: int = 0, split_seed: int | None = None) -> dict:
    """The proposal for ``dataset_name`` (any registry name or folder:/path), with timings. The
    support set is drawn from the training split as meta-training carved it (``split_seed``
    defaults to the run's seed); a study that scores on the seed-0 validation split passes 0, so
    the support set holds none of those images."""
    config = trained.config
    start = time.perf_counter()
    dataset = load_dataset(dataset_name, data_dir, image_size=config.data.image_size,
                           channels=config.data.channels, val_fraction=config.data.val_fraction,
                           seed=config.seed if split_seed is None else split_seed)
    images, labels = reference_support(dataset, PROPOSAL_SHOTS, seed)
    loaded = time.perf_counter()
    recipe = jax.device_get(system_lib.propose(trained.system, trained.params, images, labels,
                                               dataset.mean, dataset.std, dataset.num_classes))
    done = time.perf_counter()
    summary = arch_summary(recipe.arch_weights, recipe.lr_scale, recipe.weight_decay)
    genotype = search_space.Genotype.from_string(summary["genotype"])
    net = Supernet(dataset.num_classes, config.model.channels, config.model.cells_per_stage,
                   affine=True, genotype=genotype)
    cost = network_cost(net, genotype, dataset.image_shape)
    return {"dataset": dataset.name, **summary, "arch_weights": np.asarray(recipe.arch_weights).tolist(),
            "connected": genotype.connected, "seed": seed,
            "seen_in_meta_training": trained.seen(dataset.name),
            "num_classes": dataset.num_classes, "image_shape": list(dataset.image_shape),
            "params": cost.params, "flops": cost.flops,
            "network": f"C={config.model.channels}, N={config.model.cells_per_stage}, "
                       f"{config.data.image_size}x{config.data.image_size}",
            "support_set": int(len(labels)), "load_s": loaded - start, "embed_decode_s": done - loaded,
            "wall_s": done - start, "meta_step": trained.step}


def propose_from_runs(runs: list[Trained], dataset_name: str, data_dir=None, seed: int = 0) -> dict:
    """The proposal of several meta-training runs of one recipe (its seeds): the most probable
    connected cell of their mean decoded mixture, with their mean learning-rate scale and
    weight decay. Meta-training is chaotic at this scale (a rounding difference moves the
    proposed cell as a new seed does; docs/results.md), and averaging the runs' mixtures is the
    plain way to answer with less of that noise. One run: ``propose``."""
    results = [propose(t, dataset_name, data_dir, seed) for t in runs]
    if len(results) == 1:
        return results[0]
    weights = np.mean([r["arch_weights"] for r in results], axis=0)
    summary = arch_summary(weights, np.mean([r["lr_scale"] for r in results]),
                           np.mean([r["weight_decay"] for r in results]))
    merged = {**results[0], **summary, "arch_weights": weights.tolist(),
              "seen_in_meta_training": any(r["seen_in_meta_training"] for r in results),
              "runs": [str(t.workdir) for t in runs], "meta_step": [t.step for t in runs],
              **{k: float(sum(r[k] for r in results)) for k in ("load_s", "embed_decode_s", "wall_s")}}
    return with_cell(merged, summary["genotype"], runs[0].config)


def with_cell(result: dict, genotype: str, config) -> dict:
    """``result`` answering ``genotype``: its connectedness and its network's cost."""
    cell = search_space.Genotype.from_string(genotype)
    net = Supernet(result["num_classes"], config.model.channels, config.model.cells_per_stage,
                   affine=True, genotype=cell)
    cost = network_cost(net, cell, tuple(result["image_shape"]))
    return {**result, "genotype": str(cell), "connected": cell.connected, "params": cost.params, "flops": cost.flops}


def draw_cell(genotype: search_space.Genotype, path: Path, title: str = "") -> Path:
    """A PNG of the cell: 4 nodes on a line, one labelled arc per non-``none`` edge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = np.arange(search_space.NUM_NODES) * 2.0
    colours = {"skip_connect": "tab:gray", "nor_conv_1x1": "tab:blue", "nor_conv_3x3": "tab:red",
               "avg_pool_3x3": "tab:green"}
    for (target, source), op in zip(search_space.EDGES, genotype.ops):
        if op == "none":
            continue
        bend = 0.25 + 0.18 * (target - source - 1)
        arrow = FancyArrowPatch((xs[source], 0), (xs[target], 0), connectionstyle=f"arc3,rad=-{bend}",
                                arrowstyle="-|>", mutation_scale=14, lw=1.8, color=colours[op])
        ax.add_patch(arrow)
        height = bend * (xs[target] - xs[source]) / 2
        ax.text((xs[source] + xs[target]) / 2, height + 0.08, op, ha="center", fontsize=8,
                color=colours[op])
    for i, x in enumerate(xs):
        ax.add_patch(plt.Circle((x, 0), 0.28, color="white", ec="black", zorder=3))
        ax.text(x, 0, "in" if i == 0 else ("out" if i == search_space.NUM_NODES - 1 else str(i)),
                ha="center", va="center", zorder=4, fontsize=9)
    ax.set_xlim(-0.6, xs[-1] + 0.6)
    ax.set_ylim(-0.6, 2.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or str(genotype), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)

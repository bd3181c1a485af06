"""Adam and SGD with a warm-up and a cosine, tuned on a grid: what a learned optimizer must beat.

research/PROTOCOL.md ("Baselines beside every claim") and research/lopt/PROTOCOL.md fix them:
each optimizer (Adam; SGD with momentum 0.9) warms up linearly over the first 5 % of the steps
and decays along a cosine to 0 at the evaluated horizon; its learning rate is chosen on a grid of
7 points over 2 decades and its weight decay on 3 points, by mean validation accuracy (the
choice by validation loss is reported beside), each horizon tuned on its own. ``at_horizons``
sets the learned optimizer beside them at every horizon:

    result = at_horizons(trained, genotype, target, meta_datasets, {10: "K", 200: "H"}, seeds=[1000, 1001],
                         cache=TrainingCache(path))

The learned optimizer has no schedule: one training to the longest horizon, measured at each
(one per horizon if it stretches to the training's length, ``lopt.stretch_to_length``).
A baseline's training at one horizon is another training than at the next (its cosine ends
there). Every training goes through a ``TrainingCache`` (JSON lines, keyed by everything that
defines it), so a study resumes, and tunings shared by several runs or folds train once.
"""

from __future__ import annotations

import hashlib

import numpy as np

from dimo.studies.training_cache import TrainingCache  # every training of a study goes through one

OPTIMIZERS = ("adam", "sgd")
# 7 rates over 2 decades each, centred on the rates these networks train at; 3 weight decays.
LEARNING_RATES = {"sgd": tuple(float(x) for x in np.logspace(-2, 0, 7)),
                  "adam": tuple(float(x) for x in np.logspace(-4, -2, 7))}
WEIGHT_DECAYS = (5e-5, 5e-4, 5e-3)
WARMUP_FRACTION = 0.05
TUNING_SEEDS = (0, 1)  # never an evaluation's: those are 1000 (r + 1) + k (dimo.evaluation.judge.run_seeds)
METRICS = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")


def train_setup(steps: int) -> dict:
    """The schedule of every tuned baseline: a linear warm-up, then a cosine to 0 at ``steps``."""
    return {"steps": steps, "schedule": "cosine", "warmup_steps": max(1, int(WARMUP_FRACTION * steps))}


def tuned(train, optimizer: str, steps: int, tuning_seeds=TUNING_SEEDS) -> dict:
    """Every (rate, decay) of the grid trained with ``tuning_seeds`` by ``train(optimizer, lr, wd,
    schedule_setup, seed)``; the choice by mean validation accuracy, and (reported beside it) the
    choice by mean validation loss. No test figure is kept."""
    grid = [(lr, wd) for lr in LEARNING_RATES[optimizer] for wd in WEIGHT_DECAYS]
    scores = []
    for lr, wd in grid:
        runs = [train(optimizer, lr, wd, train_setup(steps), seed) for seed in tuning_seeds]
        scores.append({"learning_rate": lr, "weight_decay": wd,
                       "val_accuracy": float(np.mean([r["val_accuracy"] for r in runs])),
                       "val_loss": float(np.mean([r["val_loss"] for r in runs]))})
    by_accuracy = max(scores, key=lambda s: s["val_accuracy"])
    by_loss = min(scores, key=lambda s: s["val_loss"])
    return {"optimizer": optimizer, "steps": steps, "tuning_seeds": list(tuning_seeds), "grid": scores,
            "chosen": by_accuracy, "chosen_by_val_loss": by_loss,
            "on_the_grid_edge": by_accuracy["learning_rate"] in (LEARNING_RATES[optimizer][0],
                                                                 LEARNING_RATES[optimizer][-1])}


def _split(dataset) -> str:
    # Which images are validation depends on the split's seed: a key says which split it was.
    return hashlib.md5(np.ascontiguousarray(dataset.val_labels).tobytes()).hexdigest()[:10]


def params_digest(tree) -> str:
    """md5 of a pytree's leaves: which meta-trained parameters a learned training used."""
    import jax

    digest = hashlib.md5()
    for leaf in jax.tree.leaves(tree):
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def training_key(config, genotype, dataset, optimizer, lr, wd, schedule: dict, seed: int) -> dict:
    """What defines a baseline training on ``dataset`` at ``config``'s sizes: its cache key."""
    return {"dataset": dataset.name, "split": _split(dataset), "genotype": str(genotype), "optimizer": optimizer, "loss": "ce",
            "learning_rate": lr, "weight_decay": wd, **schedule, "seed": seed,
            "channels": config.model.channels, "cells_per_stage": config.model.cells_per_stage,
            "affine": config.model.affine, "batch_size": config.inner.batch_size,
            "image_size": config.data.image_size, "image_channels": config.data.channels}


def baseline_setup(config, optimizer: str, schedule: dict, seed: int = 0, **overrides):
    """The ``TrainSetup`` of a baseline training at ``config``'s sizes: the rate travels in the
    (traced) ``lr_scale`` at ``learning_rate=1``, so a grid shares one compiled program per horizon."""
    from dimo.evaluation import evaluate

    return evaluate.setup_for(config, optimizer=optimizer, loss="ce", learning_rate=1.0, seed=seed,
                              affine=config.model.affine, **schedule, **overrides)


def how(trained: str, **extra) -> dict:
    """A cache line's provenance: how the training ran ("lone" or "vmapped"), on which JAX
    platform, at which matmul precision (a GPU's default, TF32, is other arithmetic than fp32)."""
    import jax

    return {"trained": trained, "platform": jax.default_backend(),
            "precision": jax.config.jax_default_matmul_precision or "default", **extra}


def kept(result: dict, seed: int) -> dict:
    """A baseline training's figures to keep: a tuning training chooses on validation, and its test
    figures are not kept (a held-out target's test split is read for the reported seeds only)."""
    return {m: result[m] for m in (METRICS if seed not in TUNING_SEEDS else ("val_accuracy", "val_loss"))}


def _baseline_trainer(trained, genotype, dataset, cache: TrainingCache):
    """``train(optimizer, lr, wd, schedule_setup, seed)`` of ``tuned``, on ``dataset``, cached."""
    from dimo.evaluation import evaluate

    config = trained.config

    def train(optimizer, lr, wd, schedule, seed):
        def run():
            result = evaluate.train_genotype(genotype, dataset, baseline_setup(config, optimizer, schedule, seed),
                                             lr_scale=lr, weight_decay=wd, progress=False)
            return kept(result, seed)

        return cache.get(training_key(config, genotype, dataset, optimizer, lr, wd, schedule, seed), run, **how("lone"))

    return train


def tune_on(trained, genotype, datasets, optimizer: str, steps: int, cache: TrainingCache) -> dict:
    """``tuned`` over several datasets: each grid point's validation figures averaged over them."""
    trainers = [_baseline_trainer(trained, genotype, d, cache) for d in datasets]

    def train(*args):
        runs = [t(*args) for t in trainers]
        return {m: float(np.mean([r[m] for r in runs])) for m in ("val_accuracy", "val_loss")}

    return {**tuned(train, optimizer, steps), "datasets": [d.name for d in datasets]}


def _learned(trained, genotype, target, recipe, horizons, seeds, loss, cache: TrainingCache | None = None) -> list[dict]:
    """The learned optimizer measured at every horizon per seed (``evaluate.trainings``: one
    training to the longest, or one per horizon with ``lopt.stretch_to_length``), each training
    through ``cache`` when given (keyed by the meta-trained parameters' digest), so a study
    stopped after them does not train them again."""
    from dimo.evaluation import evaluate

    config = trained.config
    lopt_cfg, teacher_cfg = evaluate.learned_configs(config)
    base = {"learned": params_digest(trained.params), "dataset": target.name, "split": _split(target),
            "genotype": str(genotype), "loss": loss, "lr_scale": float(recipe.lr_scale),
            "weight_decay": float(recipe.weight_decay)}
    out = []
    for seed in seeds:
        by_step = {}
        for length, measure_at in evaluate.trainings("learned", lopt_cfg, horizons):
            setup = evaluate.setup_for(config, steps=length, optimizer="learned", loss=loss, seed=seed,
                                       chunk=config.inner.steps, affine=config.model.affine)

            def run(setup=setup, measure_at=measure_at):
                result = evaluate.train_genotype(genotype, target, setup, trained.params, lopt_cfg, teacher_cfg,
                                                 float(recipe.lr_scale), float(recipe.weight_decay), progress=False,
                                                 measure_at=measure_at)
                return {f"{m['step']}:{k}": m[k] for m in result["measured"] for k in METRICS}

            key = {**base, "seed": seed, "steps": length, "measure_at": list(measure_at)}
            flat = (cache or TrainingCache(None)).get(key, run, **how("lone"))
            for name, value in flat.items():
                step, metric = name.split(":")
                by_step.setdefault(int(step), {})[metric] = value
        out.append(by_step)
    return out


def learned_rows(trained, genotype, target, recipe, horizons: dict[int, str], seeds, loss: str,
                 cache: TrainingCache | None = None) -> list[dict]:
    """The learned optimizer's rows, one per horizon, ``learned_<loss>``, with per-seed metrics."""
    learned = _learned(trained, genotype, target, recipe, horizons, seeds, loss, cache)
    return [{"baseline": f"learned_{loss}", "horizon": label, "steps": steps,
             **{m: [run[steps][m] for run in learned] for m in METRICS}} for steps, label in horizons.items()]


def at_horizons(trained, genotype, target, meta_datasets, horizons: dict[int, str], seeds, cache: TrainingCache,
                recipe, tune_on_target: bool = True, loss: str | None = None, optimizers=OPTIMIZERS) -> dict:
    """Rows (one per baseline and horizon, the learned optimizer's first) of per-seed metrics on
    ``target``: the learned optimizer with ``recipe`` and ``loss`` (default: the config's), and
    each of ``optimizers`` (Adam and SGD) tuned at each horizon on ``meta_datasets`` and, with
    ``tune_on_target``, on the target's own validation split."""
    from tqdm.auto import tqdm

    loss = loss or trained.config.inner.loss
    rows = learned_rows(trained, genotype, target, recipe, horizons, seeds, loss, cache)
    sources = {"meta_train": list(meta_datasets), **({"held_out": [target]} if tune_on_target else {})}
    tunings = {}
    # hours on a CPU at the study's sizes: a bar over the tunings (each a grid, cached per training)
    jobs = [(o, src, ds, steps, label) for o in optimizers for src, ds in sources.items() for steps, label in horizons.items()]
    for optimizer, source, datasets, steps, label in (bar := tqdm(jobs, desc=f"{target.name}: tune", unit="grid")):
        bar.set_postfix_str(f"{optimizer} on {source} at {label}")
        tuning = tune_on(trained, genotype, datasets, optimizer, steps, cache)
        chosen = tuning["chosen"]
        train = _baseline_trainer(trained, genotype, target, cache)
        runs = [train(optimizer, chosen["learning_rate"], chosen["weight_decay"], train_setup(steps), s)
                for s in seeds]
        name = f"{optimizer}_schedule_tuned_{source}"
        tunings[f"{name}@{label}"] = tuning
        rows.append({"baseline": name, "horizon": label, "steps": steps, "learning_rate": chosen["learning_rate"],
                     "weight_decay": chosen["weight_decay"], **{m: [r[m] for r in runs] for m in METRICS}})
    return {"dataset": target.name, "genotype": str(genotype), "seeds": list(seeds), "horizons": horizons,
            "learned_loss": loss, "rows": rows, "tunings": tunings,
            "recipe": {"lr_scale": float(recipe.lr_scale), "weight_decay": float(recipe.weight_decay)}}


HORIZON_LABELS = ("K", "4K", "H", "2H", "10H")  # research/lopt/PROTOCOL.md's horizons, in order


def lopt_horizons(config, h: int | None = None) -> dict[int, str]:
    """{steps: label} of research/lopt/PROTOCOL.md: K, 4K, H, 2H and 10H, merged where equal.

    H is ``h`` when given (the protocol fixes it in steps, so that configs with different lifetimes
    are judged at the same lengths), else the config's meta-trained horizon: its persistent
    states' lifetime, or K without them."""
    k = config.inner.steps
    h = h or config.inner.lifetime or k
    labels: dict[int, str] = {}
    for steps, label in zip((k, 4 * k, h, 2 * h, 10 * h), HORIZON_LABELS):
        labels[steps] = f"{labels[steps]}={label}" if steps in labels else label
    return dict(sorted(labels.items()))


def load(trained, name: str, data_dir=None):
    """Dataset ``name`` at the run's sizes, its validation split carved with seed 0 whatever the
    run's seed (research/PROTOCOL.md): every run and tuning reads the same validation images."""
    from datasets_meta import load as load_dataset

    c = trained.config
    return load_dataset(name, data_dir, image_size=c.data.image_size, channels=c.data.channels,
                        val_fraction=c.data.val_fraction, seed=0)


def format_table(result: dict) -> str:
    lines = [f"{result['dataset']}: {result['genotype']}, seeds {result['seeds']}",
             f"{'horizon':<8} {'baseline':<32} {'test accuracy':>16} {'val loss':>16} {'lr':>9} {'wd':>8}"]
    for row in sorted(result["rows"], key=lambda r: (r["steps"], r["baseline"])):
        acc, loss = np.asarray(row["test_accuracy"]), np.asarray(row["val_loss"])
        spread = lambda v: v.std(ddof=1) if len(v) > 1 else 0.0  # noqa: E731
        lr = f"{row['learning_rate']:.2g}" if "learning_rate" in row else "learned"
        wd = f"{row['weight_decay']:.0e}" if "weight_decay" in row else ""
        lines.append(f"{row['horizon']:<8} {row['baseline']:<32} {acc.mean():>9.4f} ± {spread(acc):.4f} "
                     f"{loss.mean():>9.4f} ± {spread(loss):.4f} {lr:>9} {wd:>8}")
    return "\n".join(lines)


def plot(result: dict, path) -> None:
    """Test accuracy (left) and validation loss (right) against the horizon, one line a baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in dict.fromkeys(r["baseline"] for r in result["rows"]):
        mine = sorted((r for r in result["rows"] if r["baseline"] == name), key=lambda r: r["steps"])
        for ax, metric in zip(axes, ("test_accuracy", "val_loss")):
            ax.errorbar([r["steps"] for r in mine], [np.mean(r[metric]) for r in mine],
                        [np.std(r[metric]) for r in mine], marker="o", ms=3, capsize=2, label=name)
    for ax, label in zip(axes, ("test accuracy", "validation loss")):
        ax.set_xscale("log")
        ax.set_xlabel("horizon (inner steps; a baseline's cosine ends there)")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{result['dataset']}: the learned optimizer against tuned schedules", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

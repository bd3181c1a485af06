"""Ablations on a dataset: which part of the learned recipe matters?

1. **Optimizer x loss**: the proposed architecture trained from scratch with
   {learned optimizer, SGD, Adam} x {teacher loss, cross-entropy}, several seeds, accuracy
   at the meta-trained horizon K and at 4K. SGD (momentum 0.9) and Adam get their
   learning rate tuned on the *meta-training* datasets (not the evaluated one), with the
   loss they are reported with: each rate of a small grid trains the proposed cell for 4K
   steps on each meta-training dataset, and the rate with the best mean validation
   accuracy is kept.

   The network is of the kind the learned optimizer was meta-trained on (the config's
   affine or non-affine normalisation, its batch size). What still differs from
   meta-training is reported in ``distribution_shift``: the evaluated dataset's classes
   (meta-training tasks have ``task.classes_per_task``) and the horizon (4K steps where
   meta-training unrolled K; the teacher sees its progress feature clipped at 1 beyond K,
   see ``dimo.teacher_loss.observe``).
2. **Embedding**: the proposal decoded from the dataset's own code, from each
   meta-training dataset's code, and from their mean code, each trained with the learned
   recipe.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta import Dataset
from datasets_meta import load as load_dataset
from dimo import decoder as dec
from dimo import evaluate as ev
from dimo import search_space as ss
from dimo import system as system_lib
from dimo.support_sets import PROPOSAL_SHOTS, reference_support
from dimo.trained import Trained
from dimo.unroll import Recipe

LR_GRID = {"sgd": (0.03, 0.1, 0.3), "adam": (1e-3, 3e-3, 1e-2)}
COMBOS = (("learned", "teacher"), ("learned", "ce"), ("sgd", "teacher"), ("sgd", "ce"),
          ("adam", "teacher"), ("adam", "ce"))


def _load(trained: Trained, name: str, data_dir) -> Dataset:
    c = trained.config
    return load_dataset(name, data_dir, image_size=c.data.image_size, channels=c.data.channels,
                        val_fraction=c.data.val_fraction, seed=c.seed)


def dataset_code(trained: Trained, dataset: Dataset):
    images, labels = reference_support(dataset, PROPOSAL_SHOTS, trained.config.seed)
    return system_lib.code(trained.system, trained.params, images, labels, dataset.mean, dataset.std,
                           dataset.num_classes)


def recipe_from_code(trained: Trained, code) -> Recipe:
    return jax.device_get(dec.decode(trained.params["decoder"], trained.system.decoder, code))


def _train(trained, genotype, dataset, optimizer, loss, recipe, steps, seed, lr=1.0):
    # The tuned rate travels in the recipe's (traced) lr_scale: one compile for the grid.
    setup = ev.setup_for(trained.config, steps=steps, optimizer=optimizer, loss=loss,
                         learning_rate=1.0, seed=seed, chunk=trained.config.inner.steps,
                         affine=trained.config.model.affine)
    lopt_cfg, teacher_cfg = ev.learned_configs(trained.config)
    lr_scale = float(recipe.lr_scale) if optimizer == "learned" else lr
    return ev.train_genotype(genotype, dataset, setup, trained.params, lopt_cfg, teacher_cfg,
                             lr_scale, float(recipe.weight_decay), progress=False,
                             eval_every=trained.config.inner.steps)


def tune_learning_rates(trained, genotype, meta_datasets, recipe, steps, combos) -> dict:
    """{"optimizer/loss": {"lr", "val_accuracy_by_lr"}} for each hand-written optimizer's combo,
    tuned with the loss that combo is reported with."""
    tuned = {}
    for optimizer, loss in combos:
        grid = LR_GRID[optimizer]
        scores = {lr: np.mean([_train(trained, genotype, d, optimizer, loss, recipe, steps, 0, lr)["val_accuracy"]
                               for d in meta_datasets]) for lr in grid}
        tuned[f"{optimizer}/{loss}"] = {"lr": max(scores, key=scores.get), "val_accuracy_by_lr": scores}
    return tuned


def _at(curve, step):
    return next(e["val_accuracy"] for e in curve if e["step"] == step and "val_accuracy" in e)


def ablate(trained: Trained, dataset_name: str, data_dir=None, seeds: int = 3,
           combos=COMBOS, embedding: bool = True, genotype: ss.Genotype | None = None,
           first_seed: int = 0) -> dict:
    """Runs the ablations on ``dataset_name`` with training seeds ``first_seed ...
    first_seed + seeds - 1``; ``genotype`` replaces the proposed cell (the proposed
    learning-rate scale and weight decay are kept)."""
    horizon = trained.config.inner.steps
    long = 4 * horizon
    target = _load(trained, dataset_name, data_dir)
    meta_names = [n.strip() for n in trained.config.datasets.split(",") if n.strip()]
    meta_datasets = [_load(trained, n, data_dir) for n in meta_names]
    own_code = dataset_code(trained, target)
    recipe = recipe_from_code(trained, own_code)
    proposed = ss.discretize(recipe.arch_weights)
    genotype = genotype or proposed
    hand_written = [(o, l) for o, l in combos if o != "learned"]
    tuned = tune_learning_rates(trained, genotype, meta_datasets, recipe, long, hand_written)
    rows, curves = [], {}
    for optimizer, loss in combos:
        lr = tuned.get(f"{optimizer}/{loss}", {}).get("lr", 1.0)
        runs = [_train(trained, genotype, target, optimizer, loss, recipe, long, seed, lr)
                for seed in range(first_seed, first_seed + seeds)]
        at_k = [_at(r["curve"], horizon) for r in runs]
        row = {"optimizer": optimizer, "loss": loss, "lr": None if optimizer == "learned" else lr}
        for key, values in (("val_at_K", at_k), ("val_at_4K", [r["val_accuracy"] for r in runs]),
                            ("test_at_4K", [r["test_accuracy"] for r in runs])):
            row[key], row[key + "_std"] = ev.mean_std(values)
        rows.append(row)
        curves[f"{optimizer}/{loss}"] = np.mean([[e["train_loss"] for e in r["curve"]] for r in runs], 0).tolist()
    result = {"dataset": target.name, "genotype": str(genotype), "proposed_genotype": str(proposed),
              "horizon": horizon, "seeds": seeds, "first_seed": first_seed,
              "distribution_shift": {
                  "classes": {"meta_training_tasks": trained.config.task.classes_per_task,
                              "evaluated": target.num_classes},
                  "steps": {"meta_training_horizon": horizon, "evaluated": long},
                  "affine": trained.config.model.affine, "batch_size": trained.config.inner.batch_size},
              "tuned_learning_rates": tuned, "table": rows, "curves": curves,
              "curve_steps": [e["step"] for e in runs[0]["curve"]]}
    if embedding:
        result["embedding_ablation"] = _embedding_ablation(trained, target, meta_datasets, own_code, long,
                                                           first_seed)
    return result


def _embedding_ablation(trained, target, meta_datasets, own_code, steps, seed) -> list[dict]:
    codes = {f"own ({target.name})": own_code}
    meta_codes = {d.name: dataset_code(trained, d) for d in meta_datasets}
    codes.update({f"code of {n}": c for n, c in meta_codes.items() if n != target.name})
    codes["mean meta-training code"] = jnp.mean(jnp.stack(list(meta_codes.values())), 0)
    out = []
    for label, code in codes.items():
        recipe = recipe_from_code(trained, code)
        genotype = ss.discretize(recipe.arch_weights)
        run = _train(trained, genotype, target, "learned", "teacher", recipe, steps, seed)
        out.append({"code": label, "genotype": str(genotype), "lr_scale": float(recipe.lr_scale),
                    "val_accuracy": run["val_accuracy"], "test_accuracy": run["test_accuracy"]})
    return out


def plot_curves(result: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, losses in result["curves"].items():
        ax.plot(result["curve_steps"], losses, marker="o", ms=3, label=label,
                ls="-" if label.startswith("learned") else "--")
    ax.axvline(result["horizon"], color="gray", lw=0.8, ls=":")
    ax.text(result["horizon"], ax.get_ylim()[1], " K", va="top", color="gray")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"training loss (mean of {result['seeds']} seeds)")
    ax.set_title(f"{result['dataset']}: {result['genotype']}", fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

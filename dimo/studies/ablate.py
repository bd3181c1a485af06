"""Ablations on a dataset: which part of the learned recipe matters?

1. **Optimizer x loss**: the proposed architecture trained from scratch with
   {learned optimizer, SGD, Adam} x {teacher loss, cross-entropy}, several seeds, measured
   (validation and test accuracy and loss, whole splits) at the horizons of ``horizons``:
   K (one meta-training unroll), 4K, H (the longest horizon the optimizer was meta-trained
   for: the persistent states' ``inner.lifetime``, else K) and 2H. SGD (momentum 0.9) and
   Adam get their learning rate tuned twice, each by a small grid, best mean validation
   accuracy at H, with the loss they are reported with: on the *meta-training* datasets
   (what a user of DiMO would have), and, as a second and stronger row, on the evaluated
   dataset's own validation split (training seeds from ``TARGET_TUNING_SEED``, never
   reported seeds).

   The network is of the kind the learned optimizer was meta-trained on (the config's
   affine or non-affine normalisation, its batch size). What still differs from
   meta-training is reported in ``distribution_shift``: the evaluated dataset's classes
   (meta-training tasks have ``task.classes_per_task``) and the horizons past H (the
   teacher sees its progress feature clipped at 1 there, ``dimo.inner.teacher_loss.observe``,
   unless a stretching learned optimizer beside it is told the training's length).
2. **Embedding**: the proposal decoded from the dataset's own code, from each
   meta-training dataset's code, and from their mean code, each trained with the learned
   recipe to H.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta import Dataset
from datasets_meta import load as load_dataset
from dimo.evaluation import evaluate
from dimo.inner.types import Recipe
from dimo.meta import decoder as decoder_lib
from dimo.meta import system as system_lib
from dimo.meta.support_sets import PROPOSAL_SHOTS, reference_support
from dimo.meta.trained import Trained
from dimo.space import search_space

LR_GRID = {"sgd": (0.03, 0.1, 0.3), "adam": (1e-3, 3e-3, 1e-2)}
COMBOS = (("learned", "teacher"), ("learned", "ce"), ("sgd", "teacher"), ("sgd", "ce"),
          ("adam", "teacher"), ("adam", "ce"))
METRICS = ("val_accuracy", "test_accuracy", "val_loss", "test_loss")
TUNED_ON = ("meta-training datasets", "evaluated dataset")
TARGET_TUNING_SEED = 1000  # tuning on the evaluated dataset trains with a seed never reported


def horizons(config) -> dict[int, str]:
    """{steps: label} of the horizons reported: K, 4K, H (meta-trained) and 2H, merged where equal."""
    k = config.inner.steps
    h = config.inner.lifetime or k
    labels: dict[int, str] = {}
    for steps, label in ((k, "K"), (4 * k, "4K"), (h, "H"), (2 * h, "2H")):
        labels[steps] = f"{labels[steps]}={label}" if steps in labels else label
    return dict(sorted(labels.items()))


def load_for(trained: Trained, name: str, data_dir=None) -> Dataset:
    """Dataset ``name`` as the run ``trained`` was meta-trained on its datasets (size, channels,
    validation split, seed)."""
    c = trained.config
    return load_dataset(name, data_dir, image_size=c.data.image_size, channels=c.data.channels,
                        val_fraction=c.data.val_fraction, seed=c.seed)


def dataset_code(trained: Trained, dataset: Dataset):
    images, labels = reference_support(dataset, PROPOSAL_SHOTS, trained.config.seed)
    return system_lib.code(trained.system, trained.params, images, labels, dataset.mean, dataset.std,
                           dataset.num_classes)


def recipe_from_code(trained: Trained, code) -> Recipe:
    return jax.device_get(decoder_lib.decode(trained.params["decoder"], trained.system.decoder, code))


def _train(trained, genotype, dataset, optimizer, loss, recipe, steps, seed, lr=1.0, measure_at=()):
    # The tuned rate travels in the recipe's (traced) lr_scale: one compile for the grid.
    setup = evaluate.setup_for(trained.config, steps=steps, optimizer=optimizer, loss=loss,
                         learning_rate=1.0, seed=seed, chunk=trained.config.inner.steps,
                         affine=trained.config.model.affine)
    lopt_cfg, teacher_cfg = evaluate.learned_configs(trained.config)
    lr_scale = float(recipe.lr_scale) if optimizer == "learned" else lr
    return evaluate.train_genotype(genotype, dataset, setup, trained.params, lopt_cfg, teacher_cfg,
                             lr_scale, float(recipe.weight_decay), progress=False, measure_at=measure_at)


def _train_at(trained, genotype, dataset, optimizer, loss, recipe, labels, seed, lr=1.0):
    """One seed's training measured at every horizon of ``labels`` (``evaluate.trainings``: one
    training to the longest, or one per horizon when the length enters it); the longest
    training's curve is kept."""
    lopt_cfg = evaluate.learned_configs(trained.config)[0]
    runs = [_train(trained, genotype, dataset, optimizer, loss, recipe, steps, seed, lr, measure_at)
            for steps, measure_at in evaluate.trainings(optimizer, lopt_cfg, labels)]
    return {**runs[-1], "measured": [m for run in runs for m in run["measured"]]}


def tune_learning_rates(trained, genotype, datasets, recipe, steps, combos, seeds=(0,)) -> dict:
    """{"optimizer/loss": {"lr", "val_accuracy_by_lr"}} for each hand-written optimizer's combo,
    the rate of ``LR_GRID`` with the best mean validation accuracy over ``datasets`` and
    training ``seeds`` after ``steps``, tuned with the loss that combo is reported with."""
    tuned = {}
    for optimizer, loss in combos:
        scores = {lr: float(np.mean([_train(trained, genotype, d, optimizer, loss, recipe, steps, seed,
                                            lr)["val_accuracy"] for d in datasets for seed in seeds]))
                  for lr in LR_GRID[optimizer]}
        tuned[f"{optimizer}/{loss}"] = {"lr": max(scores, key=scores.get), "val_accuracy_by_lr": scores,
                                        "seeds": list(seeds)}
    return tuned


def _row(optimizer, loss, tuned_on, lr, runs, labels) -> dict:
    """A table row: every metric at every horizon, mean and sample std over the seeds' runs."""
    row = {"optimizer": optimizer, "loss": loss, "tuned_on": tuned_on, "lr": lr, "at": {}}
    for steps, label in labels.items():
        at = {"steps": steps}
        for metric in METRICS:
            values = [next(m[metric] for m in r["measured"] if m["step"] == steps) for r in runs]
            at[metric], at[metric + "_std"] = evaluate.mean_std(values)
        row["at"][label] = at
    return row


def default_combos(trained: Trained) -> tuple[tuple[str, str], ...]:
    """``COMBOS``, less the teacher's rows when ``trained`` did not meta-train a teacher
    (``inner.loss = "ce"``): it stays at its initialisation, so rows on it would measure an
    untrained loss, not the mission's teacher."""
    if trained.config.inner.loss == "teacher":
        return COMBOS
    return tuple(c for c in COMBOS if c[1] != "teacher")


def ablate(trained: Trained, dataset_name: str, data_dir=None, seeds: int = 3,
           combos=None, embedding: bool = True, genotype: search_space.Genotype | None = None,
           first_seed: int = 0, tune_on_target: bool = True, tuning_seeds: int = 2) -> dict:
    """Runs the ablations on ``dataset_name`` with training seeds ``first_seed ...
    first_seed + seeds - 1``; ``genotype`` replaces the proposed cell (the proposed
    learning-rate scale and weight decay are kept). Each rate is tuned on the mean over
    ``tuning_seeds`` training seeds: one seed's validation accuracy is too noisy to rank
    rates a factor of 3 apart (docs/results.md). ``combos``: default ``default_combos``."""
    combos = default_combos(trained) if combos is None else combos
    labels = horizons(trained.config)
    h = trained.config.inner.lifetime or trained.config.inner.steps
    longest = max(labels)
    target = load_for(trained, dataset_name, data_dir)
    meta_names = [n.strip() for n in trained.config.datasets.split(",") if n.strip()]
    meta_datasets = [load_for(trained, n, data_dir) for n in meta_names]
    own_code = dataset_code(trained, target)
    recipe = recipe_from_code(trained, own_code)
    proposed = search_space.discretize(recipe.arch_weights)
    genotype = genotype or proposed
    hand_written = [(o, l) for o, l in combos if o != "learned"]
    tuned = {TUNED_ON[0]: tune_learning_rates(trained, genotype, meta_datasets, recipe, h, hand_written,
                                              range(tuning_seeds))}
    if tune_on_target:
        tuned[TUNED_ON[1]] = tune_learning_rates(trained, genotype, [target], recipe, h, hand_written,
                                                 range(TARGET_TUNING_SEED, TARGET_TUNING_SEED + tuning_seeds))
    rows, curves, trainings = [], {}, {}
    for optimizer, loss in combos:
        for tuned_on in ([None] if optimizer == "learned" else list(tuned)):
            lr = None if tuned_on is None else tuned[tuned_on][f"{optimizer}/{loss}"]["lr"]
            if (optimizer, loss, lr) not in trainings:  # both tunings often pick the same rate
                trainings[optimizer, loss, lr] = [
                    _train_at(trained, genotype, target, optimizer, loss, recipe, labels, seed, lr or 1.0)
                    for seed in range(first_seed, first_seed + seeds)]
            runs = trainings[optimizer, loss, lr]
            row = _row(optimizer, loss, tuned_on, lr, runs, labels)
            rows.append(row)
            curves[row_label(row)] = np.mean([[e["train_loss"] for e in r["curve"]] for r in runs], 0).tolist()
    result = {"dataset": target.name, "genotype": str(genotype), "proposed_genotype": str(proposed),
              "horizon": trained.config.inner.steps, "meta_trained_horizon": h, "horizons": labels,
              "seeds": seeds, "first_seed": first_seed,
              "distribution_shift": {
                  "classes": {"meta_training_tasks": trained.config.task.classes_per_task,
                              "evaluated": target.num_classes},
                  "steps": {"meta_training_horizon": h, "evaluated": longest},
                  "affine": trained.config.model.affine, "batch_size": trained.config.inner.batch_size},
              "tuned_learning_rates": tuned, "table": rows, "curves": curves,
              "curve_steps": [e["step"] for e in runs[0]["curve"]]}
    if embedding:
        result["embedding_ablation"] = _embedding_ablation(trained, target, meta_datasets, own_code, h,
                                                           first_seed)
    return result


def row_label(row: dict) -> str:
    tuned = "" if row["tuned_on"] is None else f" (lr tuned on the {row['tuned_on']})"
    return f"{row['optimizer']}/{row['loss']}{tuned}"


def _embedding_ablation(trained, target, meta_datasets, own_code, steps, seed) -> list[dict]:
    codes = {f"own ({target.name})": own_code}
    meta_codes = {d.name: dataset_code(trained, d) for d in meta_datasets}
    codes.update({f"code of {n}": c for n, c in meta_codes.items() if n != target.name})
    codes["mean meta-training code"] = jnp.mean(jnp.stack(list(meta_codes.values())), 0)
    out = []
    for label, code in codes.items():
        recipe = recipe_from_code(trained, code)
        genotype = search_space.discretize(recipe.arch_weights)
        run = _train(trained, genotype, target, "learned", trained.config.inner.loss, recipe, steps, seed)
        out.append({"code": label, "genotype": str(genotype), "lr_scale": float(recipe.lr_scale),
                    "val_accuracy": run["val_accuracy"], "test_accuracy": run["test_accuracy"]})
    return out


def format_table(result: dict) -> str:
    """The ablation as text: one block per horizon, one line per row, mean ± std over seeds."""
    which = "proposed" if result["genotype"] == result["proposed_genotype"] else "given"
    lines = [f"{result['dataset']} ({which} cell): {result['genotype']}  ({result['seeds']} seeds, "
             f"K={result['horizon']}, meta-trained horizon H={result['meta_trained_horizon']})"]
    for tuned_on, rates in result["tuned_learning_rates"].items():
        seeds = next(iter(rates.values()), {}).get("seeds", [0])
        lines.append(f"  learning rates tuned on the {tuned_on} ({len(seeds)} seeds): "
                     + ", ".join(f"{name} {t['lr']:g}" for name, t in rates.items()))
    shift = result["distribution_shift"]
    lines.append(f"  shift from meta-training: {shift['classes']['evaluated']} classes (tasks had "
                 f"{shift['classes']['meta_training_tasks']}), up to {shift['steps']['evaluated']} steps "
                 f"(meta-trained for {shift['steps']['meta_training_horizon']}); same network kind "
                 f"(affine={shift['affine']}) and batch ({shift['batch_size']})")
    width = max(len(row_label(r)) for r in result["table"])
    for steps, label in result["horizons"].items():
        head = f"at {label} = {steps} steps:"
        lines.append(f"{head:<{width + 2}} " + " ".join(f"{h:>15}" for h in ("val acc", "test acc", "val loss",
                                                                          "test loss")))
        for r in result["table"]:
            at = r["at"][label]
            lines.append(f"  {row_label(r):<{width}} "
                         + " ".join(f"{at[m]:>7.3f} ± {at[m + '_std']:.3f}" for m in METRICS))
    return "\n".join(lines)


def plot_curves(result: dict, path) -> None:
    """Training loss over steps (left) and validation loss at the reported horizons with its
    spread over seeds (right), one line per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for row in result["table"]:
        label = row_label(row)
        style = "-" if row["optimizer"] == "learned" else (":" if row["tuned_on"] == TUNED_ON[1] else "--")
        (line,) = left.plot(result["curve_steps"], result["curves"][label], ls=style, label=label)
        steps = [a["steps"] for a in row["at"].values()]
        right.errorbar(steps, [a["val_loss"] for a in row["at"].values()],
                       yerr=[a["val_loss_std"] for a in row["at"].values()], ls=style, marker="o", ms=3,
                       capsize=2, color=line.get_color())
    for ax in (left, right):
        ax.axvline(result["meta_trained_horizon"], color="gray", lw=0.8, ls=":")
        ax.set_xlabel("training step")
    right.set_xscale("log")
    right.minorticks_off()
    right.set_xticks(list(result["horizons"]), [f"{lab}\n{s}" for s, lab in result["horizons"].items()])
    left.set_ylabel(f"training loss, the row's own (mean of {result['seeds']} seeds)")
    right.set_ylabel("validation loss (whole split), mean ± std")
    fig.suptitle(f"{result['dataset']}: {result['genotype']}", fontsize=8)
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

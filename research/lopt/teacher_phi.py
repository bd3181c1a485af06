"""What the learned teacher asks for along one training: phi_t = mu_theta(s_t) every K steps.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.teacher_phi runs/lopt_fixed_seed1 cifar10 \
        [--genotype '|...|'] [--seed 0]

Trains the run's proposal (or ``--genotype``) on the dataset with the learned optimizer and
teacher loss for 2H steps, as `dimo ablate` does, and prints, every K steps, the teacher's
coefficients (temperature tau = exp(phi[0]), and c, w, b of the sigmoid term; cross-entropy is
tau = 1, c = 0) with the student state it read. A temperature above 1 trains the network
on softened logits, so its own logits grow and it is scored overconfident by plain
cross-entropy; c > 0 rewards confidence on the label beyond cross-entropy. Diagnostic only.
"""

from __future__ import annotations

import argparse
import math


def trace(workdir: str, dataset_name: str, genotype: str | None = None, seed: int = 0,
          data_dir: str | None = None) -> list[dict]:
    import numpy as np

    from dimo.evaluation import evaluate
    from dimo.inner import teacher_loss
    from dimo.meta import trained as trained_lib
    from dimo.space import search_space
    from dimo.studies import ablate

    trained = trained_lib.load(workdir)
    config = trained.config
    dataset = ablate.load_for(trained, dataset_name, data_dir)
    recipe = ablate.recipe_from_code(trained, ablate.dataset_code(trained, dataset))
    cell = search_space.Genotype.from_string(genotype) if genotype else search_space.discretize(np.asarray(recipe.arch_weights))
    k, horizon = config.inner.steps, config.inner.get("lifetime", 0) or config.inner.steps
    setup = evaluate.setup_for(config, steps=2 * horizon, optimizer="learned", loss="teacher", learning_rate=1.0,
                         seed=seed, chunk=k, affine=config.model.affine)
    lopt_cfg, teacher_cfg = evaluate.learned_configs(config)
    rows = []

    def read_teacher(step, state, metrics):
        phi = np.asarray(teacher_loss.teacher_phi(trained.params["teacher"], teacher_cfg, state.student))
        rows.append({"step": step, "train_loss": float(np.mean(metrics["train_loss"])),
                     "tau": math.exp(phi[0]), "c": float(phi[1]), "w": float(phi[2]), "b": float(phi[3]),
                     **{f: float(v) for f, v in zip(teacher_loss.StudentState._fields, state.student)}})

    evaluate.train_genotype(cell, dataset, setup, trained.params, lopt_cfg, teacher_cfg, float(recipe.lr_scale),
                      float(recipe.weight_decay), progress=False, on_chunk=read_teacher)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir")
    parser.add_argument("dataset")
    parser.add_argument("--genotype")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data_dir")
    args = parser.parse_args(argv)
    rows = trace(args.workdir, args.dataset, args.genotype, args.seed, args.data_dir)
    print("| step | train loss (teacher's) | tau | c | w | b | ema CE | ema acc | margin mean |")
    print("|---|---|---|---|---|---|---|---|---|")
    every = max(1, len(rows) // 8)
    for row in rows[every - 1::every]:
        print(f"| {row['step']} | {row['train_loss']:.3f} | {row['tau']:.3f} | {row['c']:+.3f} | {row['w']:.3f} "
              f"| {row['b']:+.3f} | {row['ema_loss']:.3f} | {row['ema_accuracy']:.3f} | {row['margin_mean']:+.3f} |")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

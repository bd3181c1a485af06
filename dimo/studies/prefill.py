"""The tuned baselines' trainings, many at once, into a study's ``TrainingCache``.

``dimo.studies.schedules`` trains its baselines one at a time, each through the cache: hours on
a CPU for the study's grids (7 rates x 3 weight decays x 2 tuning seeds, per optimizer, horizon
and dataset). ``fill`` trains the ones a cache lacks with ``dimo.evaluation.many.train_many``,
``width`` at a time in one vmapped program, and writes them under the keys ``schedules`` reads,
so a study run after it finds every baseline training done:

    cache = schedules.TrainingCache(path)
    tuning_grids(config, genotype, datasets, horizons, cache)               # every grid, every dataset
    evaluations(config, genotype, target, meta_datasets, horizons, seeds, cache)   # the chosen, per seed

Both only add to the cache; the choice ``evaluations`` makes is ``schedules.tune_on``'s, read
from the cache. It pays on an accelerator only: on this project's 2-core CPU a vmapped grid is
slower than its trainings one by one (42 Adam trainings of 200 steps on digits: 841 s together
against 6 s each alone, 2026-12-04, a meta-training beside both); keep the study's lone
trainings there. Each line says how it was trained (``schedules.how``: vmapped, the member
count, JAX's platform and matmul precision): a vmapped training rounds differently from a lone
one (see ``many``).
"""

from __future__ import annotations

import time

import jax
from tqdm.auto import tqdm

from dimo.studies import schedules

WIDTH = 210  # a tuning grid (21 points x 2 seeds) at the protocol's five horizons: one program a (dataset, optimizer)
CHUNK = 10  # steps a dispatch: divides every horizon (10, 40, 200, 400, 2000), so no length compiles its own


def fill(config, genotype, dataset, optimizer: str, members, cache: schedules.TrainingCache,
         width: int = WIDTH) -> int:
    """Trains every member ``(lr, wd, seed, steps)`` the cache lacks (a ``steps``-step training
    with the baselines' warm-up and cosine), ``width`` at a time, at fp32 matmul precision on
    every platform (a GPU's default is TF32, other arithmetic than the CPU's); the number trained."""
    from dimo.evaluation import many

    keyed = [(m, schedules.training_key(config, genotype, dataset, optimizer, m[0], m[1],
                                        schedules.train_setup(m[3]), m[2])) for m in dict.fromkeys(members)]
    todo = [(m, key) for m, key in keyed if key not in cache]
    for i in range(0, len(todo), width):
        part = todo[i:i + width]
        longest = max(m[3] for m, _ in part)
        setup = schedules.baseline_setup(config, optimizer, schedules.train_setup(longest), chunk=CHUNK)
        start = time.perf_counter()
        with jax.default_matmul_precision("highest"):
            results = many.train_many(genotype, dataset, setup, [
                many.Member(lr, wd, seed, steps, schedules.train_setup(steps)["warmup_steps"])
                for (lr, wd, seed, steps), _ in part], width=width)
            provenance = schedules.how("vmapped", members=width)
        # where a device's time goes (a first call compiles; measuring is one member at a time)
        tqdm.write(f"{dataset.name} {optimizer}: {len(part)} trainings up to {longest} steps in "
                   f"{time.perf_counter() - start:.1f} s, of which training {results[0]['train_s']:.1f} s")
        for (member, key), result in zip(part, results):
            cache.put(key, schedules.kept(result, member[2]), **provenance)
    return len(todo)


def grid_members(optimizer: str, horizons) -> list[tuple[float, float, int, int]]:
    """The tuning grid's trainings: every rate and weight decay with every tuning seed, at each horizon."""
    return [(lr, wd, s, steps) for steps in horizons for lr in schedules.LEARNING_RATES[optimizer]
            for wd in schedules.WEIGHT_DECAYS for s in schedules.TUNING_SEEDS]


def tuning_grids(config, genotype, datasets, horizons, cache: schedules.TrainingCache,
                 optimizers=schedules.OPTIMIZERS, width: int = WIDTH) -> int:
    """Every tuning grid ``schedules.tune_on`` reads for ``datasets`` at ``horizons``, a call per
    dataset and optimizer; trainings done."""
    jobs = [(d, o) for d in datasets for o in optimizers]
    done = 0
    for dataset, optimizer in (bar := tqdm(jobs, desc="tuning grids", unit="grid")):
        bar.set_postfix_str(f"{dataset.name} {optimizer}")
        done += fill(config, genotype, dataset, optimizer, grid_members(optimizer, horizons), cache, width)
    return done


def evaluations(config, genotype, target, meta_datasets, horizons, seeds, cache: schedules.TrainingCache,
                tune_on_target: bool = True, optimizers=schedules.OPTIMIZERS, width: int = WIDTH) -> int:
    """The trainings ``schedules.at_horizons`` reports on ``target`` with ``seeds``: each
    optimizer's choice at each horizon (tuned on ``meta_datasets`` and, with ``tune_on_target``,
    on the target), one call per optimizer. Needs the grids (``tuning_grids``) first, or trains
    them one by one."""
    import types

    trained = types.SimpleNamespace(config=config)
    sources = [list(meta_datasets)] + ([[target]] if tune_on_target else [])
    done = 0
    for optimizer in optimizers:
        members = []
        for steps in horizons:
            for ds in sources:
                chosen = schedules.tune_on(trained, genotype, ds, optimizer, steps, cache)["chosen"]
                members += [(chosen["learning_rate"], chosen["weight_decay"], s, steps) for s in seeds]
        done += fill(config, genotype, target, optimizer, members, cache, width)
    return done

"""The parts of the leave-one-out study that run ahead of its units, each into the study's cache
(``leave_one_out.CACHE``), where a unit finds them done:

    DIMO_DATA_DIR=../shared/data python -m research.lopt.leave_one_out --config CONFIG --learned [--study ten]
    DIMO_DATA_DIR=../shared/data python -m research.lopt.leave_one_out --config CONFIG --baselines grids

``learned``: the learned optimizer's trainings of every finished meta-training (only a
meta-trained run can train them; a CPU's work while the baselines wait for an accelerator).
``baselines``: the tuned schedules' grids, then every run's chosen trainings, many at once
(``dimo.studies.prefill``; research/lopt/device runs them on a lent GPU).
"""

from __future__ import annotations

from dimo.infra.manifest import git_revision
from research import protocol
from research.lopt import leave_one_out as loo


def learned(wanted: list[str], runs: int, data_dir, study: str = "") -> int:
    """The learned optimizer's trainings of every unit whose meta-training is done and whose
    JSON is not, into the cache (its loss's and, with a teacher, cross-entropy's): what only a
    meta-trained run can train, while the baselines wait for an accelerator (``--baselines``).
    The unit reads them from the cache later; each pass over a held-out dataset's unit is a look
    in the ledger, whether or not it trains anything. ``study``: which judged run's systems and
    units (``leave_one_out.STUDIES``). Units done."""
    from dimo.evaluation import judge
    from dimo.space import search_space
    from dimo.studies import schedules

    done = 0
    for tested, datasets in loo.folds():
        for run in range(runs) if not wanted or tested in wanted else ():
            path = loo.system_dir(datasets, run, study)  # kept (by any machine), or finished here
            if loo.unit_path(tested, run, study).is_file() or path is None:
                continue
            system, target, recipe = loo.meta_trained(path, tested, data_dir)
            if tested in protocol.HELD_OUT:  # a look, said before it is taken (the unit says its own)
                protocol.record_look(tested, {}, what=f"lopt leave-one-out{' (' + study + ')' if study else ''}, "
                                     f"run {run}: test accuracies of the learned optimizer, ahead of its unit "
                                     "(--learned)", git_revision=git_revision())
            for loss in dict.fromkeys([system.config.inner.loss, "ce"]):  # as run_one asks for them
                schedules.learned_rows(system, search_space.Genotype.from_string(loo.ALL_3X3), target, recipe,
                                       schedules.lopt_horizons(system.config, loo.H_STEPS), judge.run_seeds(run), loss,
                                       schedules.TrainingCache(loo.CACHE))
            done += 1
    return done


def study_setup(config_path: str):
    """The study's config (read from its file as it is), what the baselines read of a run (its
    config's sizes only), the trivial cell and the horizons in steps."""
    import importlib.util
    import types

    from dimo.space import search_space
    from dimo.studies import schedules

    spec = importlib.util.spec_from_file_location("study_config", loo.REPO / config_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = module.get_config()
    return (config, types.SimpleNamespace(config=config), search_space.Genotype.from_string(loo.ALL_3X3),
            list(schedules.lopt_horizons(config, loo.H_STEPS)))


def missing_grids(config_path: str, wanted: list[str], data_dir) -> dict:
    """{dataset: {optimizer: {steps: count}}}: the tuning grids' trainings the cache lacks (what a
    device call has left to do; an empty dict where a grid is whole)."""
    from dimo.studies import prefill, schedules

    config, trained, genotype, horizons = study_setup(config_path)
    cache, out = schedules.TrainingCache(loo.CACHE), {}
    for name in wanted or [*protocol.META_TRAINING, *protocol.HELD_OUT]:
        dataset = schedules.load(trained, name, data_dir)
        out[name] = {}
        for optimizer in schedules.OPTIMIZERS:
            lacking = {}
            for lr, wd, seed, steps in prefill.grid_members(optimizer, horizons):
                key = schedules.training_key(config, genotype, dataset, optimizer, lr, wd,
                                             schedules.train_setup(steps), seed)
                if key not in cache:
                    lacking[steps] = lacking.get(steps, 0) + 1
            out[name][optimizer] = lacking
    return out


def baselines(config_path: str, phase: str, wanted: list[str], runs: int, data_dir, width: int | None = None) -> int:
    """The study's baseline trainings, vmapped (``dimo.studies.prefill``): ``grids`` trains the
    tuning grids on the wanted datasets (default all six: each is tuned on as a meta-training
    dataset or as the tested one), ``evaluations`` the chosen baselines with every
    run's seeds on each wanted tested dataset (a look at a held-out one's test split, recorded
    first). ``width``: trainings a program (default ``prefill.WIDTH``, a whole grid); a narrower
    one writes its lines a horizon at a time, so a time limit keeps what finished. Trainings done."""
    from dimo.studies import prefill, schedules
    from dimo.evaluation import judge

    config, trained, genotype, horizons = study_setup(config_path)
    cache = schedules.TrainingCache(loo.CACHE)
    chosen = [(t, ds) for t, ds in loo.folds() if not wanted or t in wanted]
    loaded = {}
    get = lambda name: loaded.setdefault(name, schedules.load(trained, name, data_dir))  # noqa: E731
    if phase == "grids":
        names = wanted or [*protocol.META_TRAINING, *protocol.HELD_OUT]
        return prefill.tuning_grids(config, genotype, [get(n) for n in names], horizons, cache,
                                    width=width or prefill.WIDTH)
    done = 0
    for tested, datasets in chosen:
        seeds = [s for run in range(runs) for s in judge.run_seeds(run)]
        if tested in protocol.HELD_OUT:  # a look, said before it is taken
            protocol.record_look(tested, {}, what=f"lopt leave-one-out, runs 0-{runs - 1}: test accuracies of the "
                                 "tuned schedules (baselines only, dimo.studies.prefill)", git_revision=git_revision())
        done += prefill.evaluations(config, genotype, get(tested), [get(d) for d in datasets], horizons, seeds, cache,
                                    width=width or prefill.WIDTH)
    return done

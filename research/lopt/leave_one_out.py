"""The learned optimizer, leave one dataset out, against tuned schedules (research/lopt/PROTOCOL.md).

    DIMO_DATA_DIR=../shared/data python -m research.lopt.leave_one_out --config CONFIG   # resumable
    python -m research.lopt.leave_one_out --summarize                                  # tables only
    DIMO_DATA_DIR=../shared/data python -m research.lopt.leave_one_out --study ten \
        --config research/lopt/configs/scheduled_ten.py                                # the second judged run
    DIMO_DATA_DIR=../shared/data python -m research.lopt.leave_one_out --config CONFIG --baselines grids

For each tested dataset (the four meta-training datasets in turn, then cifar10 and
tiny_imagenet20) and each meta-training run ``r`` (seeds 0-3): meta-trains ``CONFIG`` on the
datasets the protocol names (``train_meta.py``, resumed from its workdir), then trains the
all-``nor_conv_3x3`` cell on the tested dataset with the learned optimizer and with Adam and SGD
tuned per horizon (``dimo.studies.schedules.at_horizons``), all with the run's seeds
``1000 (r + 1) + k``. Each (dataset, run) is one JSON file under ``results/lopt_leave_one_out/runs/``;
trainings are cached in ``trainings/`` (a file per dataset) and shared between runs. A config with the
learned teacher also trains the learned optimizer on cross-entropy (``learned_ce``, reported
beside, not judged; in the summary its rows are the teacher's gain over it). ``--summarize`` (``summary.write``)
writes ``summary.json`` (a row per dataset x horizon x baseline: the paired differences over
runs, Holm-corrected over datasets x horizons), ``summary.md`` and a PNG per dataset.
Parts of it can run ahead, each resumable, into the same cache: ``--meta_trainings`` (in a
process beside the study's trainings; a run both ask for trains once, ``meta_runs`` locks it),
``--learned`` (the learned optimizer's rows of every finished meta-training), ``--baselines
grids`` then ``evaluations`` (the baselines many at once, ``dimo.studies.prefill``, for an
accelerator: research/lopt/device; on a CPU the lone trainings are faster). ``ahead`` has the last
two; ``--missing`` prints what the cache lacks of the tuning grids (what a device call has left).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from dimo.infra.manifest import git_revision, write_manifest
from research import meta_runs, protocol
from research.baselines import ALL_3X3  # the trivial cell
from research.lopt import H_STEPS, summary
from research.lopt.summary import RUNS

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "results" / "lopt_leave_one_out"
CACHE = OUT / "trainings"  # every training of the study, a file per dataset (dimo.studies.training_cache)
KEPT = OUT / "systems"  # every finished meta-training, kept where the next machine finds it (meta_runs.keep)
# Judged runs of the protocol and criterion 1's significance level (PROTOCOL.md, Changes,
# 2026-12-05): the first ("", scheduled.py) at 0.05; the second ("ten", scheduled_ten.py) at 0.025,
# in its own directory; no third config is judged, so no other name is taken.
STUDIES = {"": 0.05, "ten": 0.025}


def folds() -> list[tuple[str, list[str]]]:
    """(tested dataset, what meta-trains for it): each meta-training dataset held out in turn, then
    every held-out dataset with all the meta-training datasets."""
    loo = [(held, list(train)) for train, held in protocol.meta_validation_folds()]
    return loo + [(held, list(protocol.META_TRAINING)) for held in protocol.HELD_OUT]


def study_dir(study: str = "") -> Path:
    """Where a judged run of the protocol keeps its units, systems and summary (``STUDIES``)."""
    if study not in STUDIES:
        raise ValueError(f"--study {study}: the protocol judges {', '.join(repr(s) for s in STUDIES)} only "
                         "(research/lopt/PROTOCOL.md, Changes)")
    return OUT / study if study else OUT


def unit_path(tested: str, run: int, study: str = "") -> Path:
    """The JSON file of one (tested dataset, run) unit of the judged run ``study``."""
    return study_dir(study) / "runs" / f"{tested}_run{run}.json"


def kept_dir(study: str = "") -> Path:
    study_dir(study)  # a judged run's name, or an error
    return KEPT.parent / study / "systems" if study else KEPT  # beside KEPT wherever OUT points (device/worker)


def meta_training_dir(datasets, run: int, study: str = "") -> Path:
    root = REPO / "runs" / "lopt_leave_one_out"
    return (root / study if study else root) / f"{'-'.join(datasets)}_seed{run}"


def meta_train(config: str, datasets, run: int, overrides=(), data_dir=None, study: str = "") -> float:
    """The study's meta-training ``run`` on ``datasets`` (``meta_runs.meta_train``, resumable),
    kept in ``kept_dir(study)`` once it finishes, and not trained again once kept; its seconds."""
    workdir = meta_training_dir(datasets, run, study)
    return meta_runs.meta_train(config, datasets, run, workdir, overrides, data_dir,
                                kept=kept_dir(study) / workdir.name)


def system_dir(datasets, run: int, study: str = "") -> Path | None:
    """Where the study's finished meta-training ``run`` on ``datasets`` loads from: kept (on any
    machine), else its finished workdir on this one; None while it is not finished."""
    workdir = meta_training_dir(datasets, run, study)
    if meta_runs.is_kept(kept_dir(study) / workdir.name):
        return kept_dir(study) / workdir.name
    return workdir if meta_runs.finished(workdir) else None


def meta_trainings(wanted: list[str], runs: int) -> list[tuple[list[str], int]]:
    """(datasets, run) of every meta-training the study needs for the ``wanted`` tested datasets
    (default all), in the study's order, each once (cifar10 and tiny_imagenet20 share theirs)."""
    out = []
    for tested, datasets in folds():
        for run in range(runs) if not wanted or tested in wanted else ():
            if (datasets, run) not in out:
                out.append((datasets, run))
    return out


def meta_trained(workdir: Path, tested: str, data_dir):
    """A meta-trained run's system, the tested dataset at its sizes, and the recipe it decodes for it."""
    from dimo.meta import trained as trained_lib
    from dimo.studies import ablate, schedules

    system = trained_lib.load(workdir)
    target = schedules.load(system, tested, data_dir)
    return system, target, ablate.recipe_from_code(system, ablate.dataset_code(system, target))


def run_one(config: str, tested: str, datasets: list[str], run: int, data_dir, overrides, study: str = "") -> Path:
    """One (tested dataset, run): meta-training, then the trainings; its JSON file."""
    from dimo.evaluation import judge
    from dimo.space import search_space
    from dimo.studies import schedules

    out = unit_path(tested, run, study)
    if out.is_file():
        return out
    revision = git_revision()
    workdir = meta_training_dir(datasets, run, study)
    meta_train(config, datasets, run, overrides, data_dir, study)
    system, target, recipe = meta_trained(system_dir(datasets, run, study), tested, data_dir)
    meta = [schedules.load(system, d, data_dir) for d in datasets]
    if tested in protocol.HELD_OUT:  # a look, said before it is taken
        protocol.record_look(tested, {}, what=f"lopt leave-one-out{' (' + study + ')' if study else ''}, run {run}: "
                             "test accuracies of the learned "
                             "optimizer and the tuned schedules", git_revision=revision)
    cache = schedules.TrainingCache(CACHE)
    result = schedules.at_horizons(system, search_space.Genotype.from_string(ALL_3X3), target, meta,
                                   schedules.lopt_horizons(system.config, H_STEPS), judge.run_seeds(run), cache, recipe)
    if system.config.inner.loss != "ce":  # PROTOCOL.md, System: the optimizer on cross-entropy, beside
        result["rows"] += schedules.learned_rows(system, search_space.Genotype.from_string(ALL_3X3), target, recipe,
                                                 result["horizons"], judge.run_seeds(run), "ce", cache)
    result.update(run=run, meta_training_datasets=datasets, meta_training_run=workdir.name,
                  params_digest=schedules.params_digest(system.params), config=config,
                  overrides=list(overrides), git_revision=revision)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    write_manifest(CACHE, append=True, protocol="research/lopt/PROTOCOL.md (dimo.studies.schedules)")
    write_manifest(out.parent, append=True, unit=out.name)  # runs/ is one result, a file per unit
    return out


def summarize(study: str = "") -> dict:
    """``summary.write`` for the judged run ``study``, criterion 1 at its level (``STUDIES``)."""
    return summary.write(study_dir(study), STUDIES[study], study or "first")


def main(argv=None) -> int:
    argv, overrides = meta_runs.split_overrides(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="the config research/lopt/PROTOCOL.md's System line names")
    p.add_argument("--runs", type=int, default=RUNS)
    p.add_argument("--run", type=int, default=None,
                   help="only this run (0 .. runs-1) of each tested dataset, so that processes can share a dataset")
    p.add_argument("--tested", default="", help="comma-separated subset of the tested datasets (default all six); "
                   "with --baselines grids, the datasets whose grids to train")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--summarize", action="store_true")
    p.add_argument("--study", default="", choices=tuple(STUDIES),
                   help="which judged run of the protocol: '' the first (scheduled.py), 'ten' the second "
                        "(scheduled_ten.py, criterion 1 at 0.025), in results/lopt_leave_one_out/ten/")
    p.add_argument("--meta_trainings", action="store_true", help="run only the study's meta-trainings (resumable)")
    p.add_argument("--learned", action="store_true",
                   help="train only the learned optimizer's rows of every finished meta-training (resumable)")
    p.add_argument("--missing", action="store_true", help="print the tuning grids' trainings the cache lacks")
    p.add_argument("--baselines", choices=("grids", "evaluations"),
                   help="train only the baselines, many at once: the tuning grids, then the chosen (run grids first)")
    args = p.parse_args(argv)
    wanted = [d.strip() for d in args.tested.split(",") if d.strip()]
    if args.run is not None and not 0 <= args.run < args.runs:
        p.error(f"--run {args.run} is not one of the study's runs 0-{args.runs - 1}")
    if args.run is not None and (args.learned or args.baselines or args.missing or args.summarize):
        p.error("--run picks the units or --meta_trainings to run; --learned, --baselines, --missing and "
                "--summarize read every run")
    chosen = lambda run: args.run is None or run == args.run  # noqa: E731
    if not args.summarize and not args.config:
        p.error("--config is required (the config the protocol's System line names)")
    if args.meta_trainings:
        try:
            for datasets, run in filter(lambda item: chosen(item[1]), meta_trainings(wanted, args.runs)):
                seconds = meta_train(args.config, datasets, run, overrides, args.data_dir, args.study)
                print(f"{meta_training_dir(datasets, run, args.study).name}: {seconds:.0f} s of meta-training",
                      flush=True)
        except subprocess.CalledProcessError as e:
            print(f"error: meta-training {e.cmd[e.cmd.index('--workdir') + 1]} {meta_runs.why(e)}; the same "
                  "command resumes it", file=sys.stderr)
            return 2
        except ValueError as e:  # a kept run of another config (meta_runs.meta_train)
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.missing:
        from research.lopt import ahead

        for name, lacking in ahead.missing_grids(args.config, wanted, args.data_dir).items():
            print(json.dumps({"dataset": name, **lacking}))
        return 0
    if args.learned:
        from research.lopt import ahead

        try:
            print(f"learned rows of {ahead.learned(wanted, args.runs, args.data_dir, args.study)} units trained")
        except ValueError as e:  # a kept system that does not load (WorkdirError), a dataset missing
            print(f"error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.baselines:
        if overrides:  # the prefill reads the config file as it is: its keys would miss an overridden study's
            p.error(f"--baselines takes no config overrides ({' '.join(overrides)}): put them in the config file")
        from research.lopt import ahead

        print(f"{ahead.baselines(args.config, args.baselines, wanted, args.runs, args.data_dir)} trainings")
        return 0
    if not args.summarize:
        for tested, datasets in folds():
            if wanted and tested not in wanted:
                continue
            for run in filter(chosen, range(args.runs)):
                try:
                    print(run_one(args.config, tested, datasets, run, args.data_dir, overrides, args.study))
                except subprocess.CalledProcessError as e:
                    print(f"error: meta-training for {tested}, run {run} {meta_runs.why(e)}; the same "
                          "command resumes it", file=sys.stderr)
                    return 2
                except ValueError as e:  # a dataset missing or malformed (datasets_meta.DatasetError), a bad config
                    print(f"error: {tested}, run {run}: {e}", file=sys.stderr)
                    return 2
    if not sorted((study_dir(args.study) / "runs").glob("*.json")):
        print(f"error: no finished runs in {study_dir(args.study) / 'runs'}: run the study first (--config CONFIG)",
              file=sys.stderr)
        return 2
    print(json.dumps(summarize(args.study)["acceptance"]))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

"""Meta-training runs a study starts: ``train_meta.py`` in a subprocess, resumed from its workdir.

    args, overrides = split_overrides(sys.argv[1:])      # "... -- --config.meta.steps=300"
    seconds = meta_train("dimo/configs/recommended.py", ["digits", "mnist"], 0, workdir, overrides)
    seconds = meta_train(..., kept=Path("results/my_study/systems") / workdir.name)   # kept across machines

``runs/`` is not committed, and a study outlives the session (and the machine) that meta-trained
its runs: with ``kept``, each finished run is exported to a committed folder (``keep``: its config
and the meta-parameters it answers with, about 70 KB, where its checkpoints are megabytes), and a
run found kept is not trained again, so another machine goes on with the same meta-trained systems.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def split_overrides(argv) -> tuple[list[str], list[str]]:
    """(the script's own arguments, the config overrides after a ``--`` for ``train_meta.py``)."""
    argv = list(argv)
    if "--" not in argv:
        return argv, []
    return argv[:argv.index("--")], argv[argv.index("--") + 1:]


def meta_train(config: str, datasets, seed: int, workdir: Path, overrides=(), data_dir=None,
               kept: Path | None = None) -> float:
    """Runs (or resumes, or finds finished) the meta-training; its elapsed seconds. Raises
    ``subprocess.CalledProcessError`` if it fails or ``Stopped`` if it stopped early (the same
    call resumes it). A finished run is resumed too, so ``train_meta.py`` checks that it is the run
    asked for (datasets, seed, model; a longer ``meta.steps`` continues it); with nothing left to
    run it leaves the run as it was.
    With ``kept``, a run kept there is not trained (its seconds are the kept ones; ``ValueError``
    if it was kept for another config, datasets, seed or overrides), and a run that finishes is
    kept (``keep``)."""
    workdir = Path(workdir)
    command = [sys.executable, str(REPO / "train_meta.py"), "--config", config, "--datasets", ",".join(datasets),
               f"--config.seed={seed}", "--workdir", str(workdir), "--noprogress", *overrides]
    if data_dir:
        command += ["--data_dir", data_dir]
    workdir.parent.mkdir(parents=True, exist_ok=True)
    # Two processes of a study (one running its meta-trainings ahead, say) may ask for one run:
    # the second waits for the first, then resumes the run it finished, which leaves it as it is.
    with open(workdir.parent / f".{workdir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        asked = {"config": config, "datasets": list(datasets), "seed": seed, "overrides": list(overrides)}
        if kept is not None and is_kept(kept):
            recorded = _kept_manifest(kept).get("asked")
            if recorded != asked:  # resuming would have refused it (train_meta.py's check); so does this
                raise ValueError(f"{kept} keeps the run asked for as {recorded}, not {asked}: name another "
                                 "run, or move the kept one aside")
            return kept_seconds(kept)
        if (workdir / "checkpoints").is_dir():
            command.append("--resume")
        subprocess.run(command, check=True, cwd=REPO)
        if not finished(workdir):  # train_meta.py stopped by a signal exits 0 after its checkpoint
            raise Stopped(0, command)
        if kept is not None:
            keep(workdir, kept, command="python " + " ".join(command[1:]).replace(f"{REPO}/", ""),  # from the repo
                 asked=asked)
    return elapsed(workdir)


def keep(workdir: Path, kept: Path, command: str | None = None, **extra) -> bool:
    """Exports a finished run to ``kept`` (``dimo.meta.trained.export``; its ``summary.json``
    beside the parameters) with a manifest naming the meta-parameters' digest (the ``learned`` of
    a study cache's keys), its meta-training seconds and ``extra``. Written beside the workdir,
    checked (it loads back with the run's digest) and its manifest written before it is renamed
    into place, so a folder ``is_kept`` finds is whole. Leaves a kept run as it is; whether it exported."""
    from dimo.infra import manifest
    from dimo.meta import trained
    from dimo.studies import schedules

    workdir, kept = Path(workdir), Path(kept)
    if is_kept(kept) or not finished(workdir):
        return False
    system = trained.load(workdir)
    digest = schedules.params_digest(system.params)
    partial = workdir.parent / f".{workdir.name}.export"  # in runs/: never beside the committed ones
    shutil.rmtree(partial, ignore_errors=True)
    trained.export(system, partial)
    shutil.copy2(workdir / "summary.json", partial / "summary.json")
    if schedules.params_digest(trained.load(partial).params) != digest:
        raise RuntimeError(f"the export of {workdir} does not load back with its parameters; nothing kept")
    kept.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_manifest(kept, command=command, run=workdir.name, meta_step=system.step, params_digest=digest,
                            meta_training_s=elapsed(workdir), **extra)
    shutil.rmtree(kept, ignore_errors=True)  # an earlier attempt's, without its manifest: not kept
    shutil.move(partial, kept)
    return True


def _kept_manifest(kept: Path) -> dict:
    from dimo.infra import manifest

    return json.loads(manifest.manifest_path(kept).read_text())


def is_kept(kept: Path) -> bool:
    """Whether ``kept`` holds a whole kept run: its parameters and, beside it, its manifest."""
    from dimo.infra import manifest
    from dimo.meta import trained

    return (Path(kept) / trained.PARAMS_FILE).is_file() and manifest.manifest_path(kept).is_file()


def kept_seconds(kept: Path) -> float:
    """A kept run's meta-training seconds, from its manifest."""
    return float(_kept_manifest(kept)["meta_training_s"])


class Stopped(subprocess.CalledProcessError):
    """``train_meta.py`` ended without error before the run's last meta-step: stopped by a signal
    (SIGTERM, SIGINT) after a checkpoint. A study must not go on to read that run as finished."""

    def __str__(self) -> str:
        return "stopped before its last meta-step (a signal)"


def why(error: subprocess.CalledProcessError) -> str:
    """What an error of ``meta_train`` says in an ``error:`` line."""
    return str(error) if isinstance(error, Stopped) else f"failed (exit {error.returncode})"


def finished(workdir: Path) -> bool:
    """Whether the run in ``workdir`` has run every meta-step its config.json asks for (its
    summary, written at the end, counts the steps it logged)."""
    workdir = Path(workdir)
    try:
        steps = json.loads((workdir / "summary.json").read_text())["steps"]
        return steps >= json.loads((workdir / "config.json").read_text())["meta"]["steps"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def elapsed(workdir: Path) -> float:
    """Meta-training seconds over every session of the run: ``time_s`` counts from its process's
    start, so it restarts after each resume; the sum of each session's last value."""
    times = [float(json.loads(line)["time_s"]) for line in (workdir / "metrics.jsonl").read_text().splitlines()
             if line.strip()]
    ends = [a for a, b in zip(times, times[1:]) if b < a]
    return float(sum(ends) + times[-1])


def read_records(path: Path) -> list[dict]:
    """The JSON lines of a meta-validation record (none when it does not exist)."""
    path = Path(path)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def by_variant(rows: list[dict], figures: dict) -> list[dict]:
    """Per variant of a meta-validation record: how many results, their folds and seeds, each
    figure's mean and spread over them (``figures``: name -> the figure of a row), and the mean
    meta-training time."""
    import numpy as np

    out = []
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = [r for r in rows if r["variant"] == variant]
        values = {name: [float(figure(r)) for r in mine] for name, figure in figures.items()}
        out.append({"variant": variant, "results": len(mine), "folds": sorted({r["fold"] for r in mine}),
                    "seeds": sorted({r["seed"] for r in mine}),
                    **{f"{n}_mean": float(np.mean(v)) for n, v in values.items()},
                    **{f"{n}_std": float(np.std(v, ddof=1)) if len(v) > 1 else None for n, v in values.items()},
                    "meta_training_s_mean": float(np.mean([r["meta_training_s"] for r in mine]))})
    return out


def validate_and_record(validate, args, overrides, out: Path) -> dict | None:
    """One meta-validation result, ``validate(args, overrides)``, appended to ``out`` with its
    manifest; ``None`` after one ``error:`` line when ``out`` already holds (variant, fold, seed),
    the input is bad, or meta-training failed (the same command resumes it)."""
    from dimo.infra.manifest import write_manifest

    out = Path(out)
    if any((r["variant"], r["fold"], r["seed"]) == (args.variant, args.fold, args.seed) for r in read_records(out)):
        print(f"error: {out.name} already holds {args.variant} on {args.fold} with seed {args.seed}; "
              "a new --seed or --variant", file=sys.stderr)
        return None
    try:
        row = validate(args, overrides)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    except subprocess.CalledProcessError as e:
        print(f"error: meta-training {why(e)}; its workdir resumes with the same command",
              file=sys.stderr)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(row) + "\n")
    write_manifest(out, append=True)
    return row


def validation_parser(doc: str, config: str, fold: str, workdir_help: str):
    """The arguments every meta-validation script shares (its own are added by the caller)."""
    import argparse

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", help="the variant's name in the record")
    p.add_argument("--config", default=config)
    p.add_argument("--fold", default=fold, help="the meta-training dataset held out (its validation split judges)")
    p.add_argument("--seed", type=int, default=0, help="the meta-training seed (the run)")
    p.add_argument("--workdir", default=None, help=workdir_help)
    p.add_argument("--data_dir", default=None)
    p.add_argument("--summary", action="store_true", help="print a line per variant of the record")
    return p

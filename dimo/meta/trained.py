"""A meta-trained system loaded back from its workdir (config.json + latest checkpoint), or from
its export (config.json + the answer's meta-parameters, ``export``: what answering needs, a few
tens of KB, where a checkpoint with persistent inner states is megabytes)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import flax.serialization
import jax
import ml_collections
import numpy as np

from datasets_meta import display_name
from dimo.infra import integrity
from dimo.infra import workdir as workdirs
from dimo.meta import state as meta_state
from dimo.meta import system as system_lib
from dimo.meta.config import migrate
from dimo.meta.outer_optimizer import OuterSettings


@dataclasses.dataclass(frozen=True)
class Trained:
    config: ml_collections.ConfigDict
    system: system_lib.System
    params: dict
    step: int
    workdir: Path

    @property
    def meta_training_datasets(self) -> tuple[str, ...]:
        """The datasets meta-training read, by the names loaded datasets carry (from config.json)."""
        return tuple(display_name(n.strip()) for n in self.config.datasets.split(",") if n.strip())

    def seen(self, dataset_name: str) -> bool:
        """Whether the loaded dataset ``dataset_name`` was among the meta-training datasets."""
        return dataset_name in self.meta_training_datasets

    def warn_if_seen(self, dataset_name: str) -> bool:
        """``seen``, with one warning line on stderr when it was: not an unseen-dataset result."""
        seen = self.seen(dataset_name)
        if seen:
            print(f"warning: {dataset_name} was a meta-training dataset of {self.workdir} "
                  f"(datasets={self.config.datasets}): this is not a result on an unseen dataset",
                  file=sys.stderr)
        return seen


def read_config(workdir) -> dict:
    """A run's ``config.json``, with one-line ``WorkdirError``s for a missing workdir or file."""
    workdir = Path(workdir)
    if not workdir.is_dir():
        raise workdirs.WorkdirError(f"workdir {workdir} does not exist; pass the --workdir of a "
                              f"train_meta.py run")
    config_path = workdir / "config.json"
    if not config_path.is_file():
        raise workdirs.WorkdirError(f"{workdir} has no config.json: it is not a train_meta.py workdir")
    try:
        return json.loads(config_path.read_text())
    except ValueError as e:
        raise workdirs.WorkdirError(f"{config_path} is not valid JSON ({e}); restore it from the run") from None


def load(workdir, last_iterate: bool = False) -> Trained:
    """Restores the newest intact checkpoint; one-line ``WorkdirError`` for every way it can fail.
    Its meta-parameters are the run's moving average where it keeps one (``meta.ema_decay``),
    unless ``last_iterate``."""
    workdir = Path(workdir)
    config_path = workdir / "config.json"
    raw = read_config(workdir)
    try:
        config = migrate(raw)
        system = system_lib.from_config(config)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise workdirs.WorkdirError(f"{config_path} does not describe a DiMO system ({e}); it comes "
                              f"from another version or was edited") from None
    if (workdir / PARAMS_FILE).is_file():
        if last_iterate:
            raise workdirs.WorkdirError(f"{workdir} is an export: it keeps the parameters the run answers with, "
                                        f"not its last iterate (that needs the run's own workdir)")
        return _load_export(workdir, config, system)
    outer = OuterSettings.from_config(config).build()
    # Only the tree structure and shapes are needed: nothing is computed. Each leaf is placed
    # on this process's first device: without a target sharding orbax reuses the saved one,
    # and a run meta-trained on 4 devices then fails to load on 1 ("topology mismatch").
    here = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    template = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=here),
        jax.eval_shape(lambda: meta_state.checkpoint_tree(meta_state.init_state(
            system, outer, config.seed, meta_state.population_size(config),
            ema=config.meta.ema_decay > 0))))
    # The newest checkpoint whose bytes match their checksums; a reader moves nothing.
    step, damaged = integrity.latest_intact(workdir / "checkpoints")
    for bad, why in sorted(damaged.items(), reverse=True):
        print(f"warning: checkpoint {bad} of {workdir} is damaged ({why}); using "
              + (f"checkpoint {step}" if step is not None else "none"), file=sys.stderr)
    if step is None:
        if damaged:
            raise workdirs.WorkdirError(f"{workdir} has no intact checkpoint (all are damaged); --resume the "
                                  f"run to set them aside and train again")
        raise workdirs.WorkdirError(f"{workdir} has no checkpoint yet; let train_meta.py run past its "
                              f"first checkpoint (meta.checkpoint_every={config.meta.checkpoint_every})")
    manager = workdirs.checkpoint_manager(workdir, config.meta.checkpoint_every, read_only=True)
    mismatch = workdirs.WorkdirError(f"the checkpoint in {workdir} does not fit its config.json; it was "
                               f"written by another config (restore the matching config.json)")
    if not workdirs.checkpoint_shapes_match(manager, template, step):
        raise mismatch
    try:
        state = meta_state.from_checkpoint_tree(workdirs.restore_checkpoint(manager, template, step))
    except Exception:  # orbax raises many types on a mismatched tree
        raise mismatch from None
    params = state.params if last_iterate else state.answer_params
    return Trained(config, system, params, int(state.step), workdir)


PARAMS_FILE = "params.msgpack"  # an export's meta-parameters (flax.serialization)


def export(trained: Trained, path) -> Path:
    """Writes ``trained`` as ``load`` reads it back: ``config.json`` and the meta-parameters it
    answers with (the moving average where the run keeps one), at its meta-step. No outer
    optimizer or inner states: an export answers and trains networks, it does not resume."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(trained.config.to_dict(), indent=2) + "\n")
    (path / PARAMS_FILE).write_bytes(flax.serialization.msgpack_serialize(
        {"step": trained.step, "params": flax.serialization.to_state_dict(jax.device_get(trained.params))}))
    return path


def _load_export(path: Path, config, system) -> Trained:
    template = jax.eval_shape(system.init, jax.random.key(0))
    mismatch = workdirs.WorkdirError(f"{path / PARAMS_FILE} does not fit its config.json; it was written "
                                     f"by another config (restore the matching config.json)")
    try:
        saved = flax.serialization.msgpack_restore((path / PARAMS_FILE).read_bytes())
        params, step = flax.serialization.from_state_dict(template, saved["params"]), int(saved["step"])
    except Exception:  # msgpack and flax raise many types on a damaged or foreign file
        raise mismatch from None
    if jax.tree.map(lambda x: (x.shape, x.dtype), params) != jax.tree.map(lambda x: (x.shape, x.dtype), template):
        raise mismatch
    return Trained(config, system, jax.tree.map(np.asarray, params), step, path)


def pretrained_workdir() -> Path:
    """The system shipped in the package, ``dimo/pretrained/system`` (a workdir: config.json and
    its newest checkpoint), built by ``python -m tools.build_pretrained``."""
    import importlib.resources

    path = Path(str(importlib.resources.files("dimo") / "pretrained" / "system"))
    if not (path / "config.json").is_file():
        raise workdirs.WorkdirError(f"this DiMO ships no pretrained system ({path} is missing); pass the "
                                    f"--workdir of a train_meta.py run, or build it with "
                                    f"`python -m tools.build_pretrained`")
    return path


def load_runs(workdirs) -> list[Trained]:
    """Several runs that answer together: seeds of one config (others are refused)."""
    runs = [load(w) for w in workdirs]
    beyond_seed = lambda t: {k: v for k, v in t.config.to_dict().items() if k != "seed"}  # noqa: E731
    differ = [t for t in runs[1:] if beyond_seed(t) != beyond_seed(runs[0])]
    if differ:
        raise ValueError(f"--workdir runs must be seeds of one config: {differ[0].workdir}'s config.json "
                         f"differs from {runs[0].workdir}'s beyond its seed")
    return runs

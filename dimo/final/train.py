"""Train a cell into a final network: epochs or a wall-clock budget, checkpoints, a model directory.

    result = train(genotype, dataset, preset("small"), "model_dir", budget_s=60)

With a budget, the compiled step is first timed (two chunks on a throwaway copy of the
initial state, one validation pass), and the number of epochs that fits what is left of the
budget becomes the cosine's horizon: the schedule ends at 0 instead of being cut short. The
state is checkpointed with orbax after every epoch and, on Ctrl-C or SIGTERM, after the chunk
it interrupts (``Stopped``); ``resume=True`` goes on from the newest checkpoint under the plan
the training started with, step for step as the whole training would have.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from datasets_meta import Dataset
from dimo.evaluation.evaluate import CALIBRATION_EXAMPLES, calibrate, model_metrics
from dimo.final import model as model_dir
from dimo.final.config import FinalConfig
from dimo.final.report import plot_history
from dimo.final.step import Hyper, Trainer, TrainState, epoch_order, train_chunk
from dimo.infra.guards import StopRequested
from dimo.space.search_space import Genotype
from dimo.space.supernet import Supernet

# Training images whose statistics normalise the validation after each epoch (the final
# measurement uses ``CALIBRATION_EXAMPLES``).
EPOCH_CALIBRATION = 1000
# Share of the budget's estimate that training may plan to use: step times vary by ~10 %.
BUDGET_SAFETY = 0.85
PLAN_FILE = "train.json"


class TrainError(ValueError):
    """Bad input to a final training, said in one line with its fix."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """How many steps, in which pieces: fixed when a training starts, kept on resume."""

    chunk: int  # steps per compiled call
    steps_per_epoch: int  # a multiple of ``chunk``: each epoch sees that many batches of a permutation
    epochs: int
    warmup_steps: int

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def chunking(num_train: int, cfg: FinalConfig) -> tuple[int, int]:
    """(chunk, steps per epoch): an epoch is a whole number of equal chunks of at most
    ``cfg.chunk`` steps, so one program runs every call; it drops fewer batches than it has
    chunks (39 batches: 2 chunks of 19), a different few examples each epoch."""
    batches = num_train // cfg.batch_size
    if batches < 1:
        raise TrainError(f"the training split has {num_train} examples, fewer than one batch of "
                         f"{cfg.batch_size}; pass a smaller --batch_size")
    chunks = math.ceil(batches / cfg.chunk)
    chunk = batches // chunks
    return chunk, chunks * chunk


def epochs_in_budget(budget_s: float, spent_s: float, epoch_s: float, final_s: float) -> int:
    """Whole epochs that fit in what is left of ``budget_s`` after ``spent_s`` (compiling,
    timing) and the final measurement (``final_s``), each taking ``epoch_s``, with a margin."""
    left = budget_s - spent_s - final_s
    epochs = int(left * BUDGET_SAFETY // epoch_s) if left > 0 else 0
    if epochs < 1:
        need = math.ceil(spent_s + final_s + epoch_s / BUDGET_SAFETY) + 1
        raise TrainError(f"a budget of {budget_s:g} s cannot finish an epoch: compiling and timing took "
                         f"{spent_s:.1f} s and an epoch takes ~{epoch_s:.1f} s here; pass --budget {need} "
                         f"or more, or --epochs N")
    return epochs


def _checkpointer(out: Path) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=1, enable_async_checkpointing=False)
    return ocp.CheckpointManager(out.absolute() / "checkpoints", options=options)


def saved_training(out) -> dict:
    """``out/train.json``: the training a resume continues (its config, plan, recipe)."""
    path = Path(out) / PLAN_FILE
    if not path.is_file():
        raise TrainError(f"--resume: {out} has no {PLAN_FILE}; it holds no training to resume "
                         f"(drop --resume to start one)")
    try:
        saved = json.loads(path.read_text())
        FinalConfig(**saved["config"])
        for key in ("dataset", "genotype", "lr_scale", "weight_decay"):
            saved[key]  # noqa: B018 (present)
    except (ValueError, KeyError, TypeError) as e:
        raise TrainError(f"{path} is damaged ({type(e).__name__}: {e}); start the training again in a "
                         f"new --out") from None
    return saved


def _prepare(out: Path, plan_record: dict, resume: bool) -> dict | None:
    """The saved training when resuming (checked against this call's), else None; refuses to
    overwrite a directory that holds something."""
    if resume:
        saved = saved_training(out)
        for key in ("dataset", "genotype"):
            if saved[key] != plan_record[key]:
                raise TrainError(f"--resume: {out} trains {key} {saved[key]!r}, not {plan_record[key]!r}; "
                                 f"resume with the same --dataset and --genotype or choose another --out")
        return saved
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainError(f"--out {out} is not empty; pass --resume to continue its training, or "
                         f"choose another --out")
    return None


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    tmp.replace(path)


@dataclasses.dataclass(frozen=True)
class Job:
    """One training's fixed parts: the network, its data on the device, its recipe."""

    trainer: Trainer
    dataset: Dataset
    meta: object  # the learned optimizer's meta-parameters, or None
    arch: jax.Array
    images: jax.Array
    labels: jax.Array
    chunk: int
    steps_per_epoch: int
    lr_scale: float
    weight_decay: float

    @property
    def cfg(self) -> FinalConfig:
        return self.trainer.cfg

    def plan(self, epochs: int) -> Plan:
        return Plan(self.chunk, self.steps_per_epoch, epochs, int(round(self.cfg.warmup_epochs * self.steps_per_epoch)))

    def hyper(self, plan: Plan) -> Hyper:
        return Hyper(jnp.float32(plan.total_steps), jnp.float32(plan.warmup_steps), jnp.float32(self.lr_scale),
                     jnp.float32(self.weight_decay))

    def run_chunk(self, plan: Plan, state: TrainState, done: int):
        """The chunk of steps starting at step ``done``."""
        epoch, offset = divmod(done, self.steps_per_epoch)
        batches = epoch_order(self.cfg.seed, epoch, len(self.labels), self.steps_per_epoch, self.cfg.batch_size)
        return train_chunk(self.trainer, self.meta, self.hyper(plan), self.arch, state, self.images, self.labels,
                           jnp.asarray(batches[offset:offset + self.chunk]), jnp.asarray(self.dataset.mean),
                           jnp.asarray(self.dataset.std))

    def measure(self, params, splits=("val",), examples: int = EPOCH_CALIBRATION):
        """(normalisation statistics, {split: (accuracy, loss)})."""
        model = self.trainer.model
        stats = calibrate(model, params, self.arch, self.dataset, examples=examples, batch=self.cfg.eval_batch)
        return stats, {split: model_metrics(model, params, stats, self.arch, self.dataset, split, self.cfg.eval_batch)
                       for split in splits}


def _budget_plan(job: Job, state: TrainState, budget_s: float, start: float) -> tuple[Plan, dict]:
    """Compiles and times a chunk (on a throwaway state) and a validation, then plans the epochs
    that fit what is left of ``budget_s``."""
    probe = job.plan(job.cfg.epochs)
    timings = []
    for _ in range(2):  # the first call compiles
        tick = time.perf_counter()
        jax.block_until_ready(job.run_chunk(probe, state, 0))
        job.measure(state.params)
        timings.append(time.perf_counter() - tick)
    tick = time.perf_counter()
    job.measure(state.params)
    eval_s = time.perf_counter() - tick
    step_s = max(timings[1] - eval_s, 0.0) / job.chunk
    # The final measurement: calibration on up to CALIBRATION_EXAMPLES training images (a
    # validation's on up to EPOCH_CALIBRATION), then the validation and test splits.
    train_n, data = len(job.labels), job.dataset
    calibration = min(CALIBRATION_EXAMPLES, train_n) / min(EPOCH_CALIBRATION, train_n)
    final_s = eval_s * (calibration + (len(data.val_labels) + len(data.test_labels)) / max(len(data.val_labels), 1))
    spent = time.perf_counter() - start
    epochs = epochs_in_budget(budget_s, spent, job.steps_per_epoch * step_s + eval_s, final_s)
    return job.plan(epochs), {"compile_and_timing_s": spent, "step_s": step_s, "epoch_eval_s": eval_s}


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a training after its current chunk and a checkpoint."""


def _train_epochs(job: Job, plan: Plan, state: TrainState, manager, history: list, out: Path, start: float,
                  progress: bool) -> TrainState:
    """Chunks until ``plan`` is done: validation, checkpoint and history after each epoch. A
    SIGINT or SIGTERM (Ctrl-C) is taken after the current chunk: the state is checkpointed and
    ``Stopped`` raised; a signal must not land inside orbax's writer threads."""
    from tqdm.auto import tqdm

    done, losses = int(state.step), []
    bar = tqdm(total=plan.total_steps, initial=done, desc=f"train {job.dataset.name}", disable=not progress,
               dynamic_ncols=True, unit="step")
    with StopRequested() as stop:
        while done < plan.total_steps and not stop.signal:
            state, chunk_losses = job.run_chunk(plan, state, done)
            done += job.chunk
            losses.append(float(jnp.mean(chunk_losses)))
            bar.update(job.chunk)
            if done % job.steps_per_epoch == 0:
                (val_acc, val_loss), = job.measure(state.params)[1].values()
                history.append({"epoch": done // job.steps_per_epoch, "step": done,
                                "train_loss": float(np.mean(losses)), "val_accuracy": val_acc,
                                "val_loss": val_loss, "time_s": time.perf_counter() - start})
                losses = []
                bar.set_postfix(val_acc=f"{val_acc:.3f}")
                # History first: a resume drops entries past its checkpoint, never misses one.
                _write_json(out / "history.json", history)
                manager.save(done, args=ocp.args.StandardSave(state))
        if stop.signal and manager.latest_step() != done:
            manager.save(done, args=ocp.args.StandardSave(state), force=True)
        manager.wait_until_finished()
    bar.close()
    if stop.signal:
        raise Stopped(f"{stop.signal}: stopped at step {done} of {plan.total_steps}, checkpoint saved")
    return state


def _job(genotype: Genotype, dataset: Dataset, cfg: FinalConfig, record: dict, meta, lopt_cfg) -> Job:
    learned = cfg.optimizer == "learned"
    model = Supernet(dataset.num_classes, cfg.channels, cfg.cells_per_stage, affine=True, genotype=genotype)
    images, labels = (jnp.asarray(a) for a in dataset.arrays("train"))
    return Job(Trainer(model, cfg, lopt_cfg if learned else None), dataset, meta if learned else None,
               jnp.asarray(genotype.one_hot()), images, labels, *chunking(len(labels), cfg), record["lr_scale"],
               record["weight_decay"])


# Module level, the trainer static: a second training of one network reuses the program.
_init = jax.jit(lambda trainer, key, meta, hyper, arch, shape: trainer.init(key, meta, hyper, arch, shape),
                static_argnums=(0, 5))


def train(genotype: Genotype, dataset: Dataset, cfg: FinalConfig, out, *, lr_scale: float = 1.0,
          weight_decay: float | None = None, budget_s: float | None = None, meta=None, lopt_cfg=None,
          resume: bool = False, progress: bool = True, source: dict | None = None) -> dict:
    """Trains ``genotype`` on ``dataset`` (loaded at ``cfg.image_size``, 3 channels) into ``out``.

    ``lr_scale`` and ``weight_decay`` are a proposal's recipe (defaults: 1 and
    ``cfg.weight_decay``); ``meta``/``lopt_cfg``: a system's learned optimizer, for
    ``cfg.optimizer == "learned"``. ``source`` (the command, the proposal) goes into the
    model directory. Returns the training's summary (also ``out/model.json``).
    """
    start, out = time.perf_counter(), Path(out)
    if cfg.optimizer == "learned" and (meta is None or lopt_cfg is None):
        raise TrainError("--optimizer learned needs a meta-trained system's optimizer (the shipped one, "
                         "or --workdir)")
    decay = cfg.weight_decay if weight_decay is None else float(weight_decay)
    record = {"dataset": dataset.name, "genotype": str(genotype), "config": dataclasses.asdict(cfg),
              "lr_scale": float(lr_scale), "weight_decay": decay, "budget_s": budget_s, "source": source or {}}
    saved = _prepare(out, record, resume)
    if saved is not None:
        cfg, record = FinalConfig(**saved["config"]), saved
    if dataset.image_shape[:2] != (cfg.image_size, cfg.image_size):
        raise TrainError(f"the dataset is loaded at {dataset.image_shape[0]}x{dataset.image_shape[1]}, the "
                         f"training is for {cfg.image_size}x{cfg.image_size}; load it at image_size={cfg.image_size}")
    job = _job(genotype, dataset, cfg, record, meta, lopt_cfg)  # checks the batch before anything is written
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrainError(f"cannot create --out {out} ({e.strerror or e}); choose a writable place") from None
    state = _init(job.trainer, jax.random.key(cfg.seed), job.meta, job.hyper(job.plan(cfg.epochs)), job.arch,
                  dataset.image_shape)
    if saved is not None:
        plan, record["timing"] = Plan(**saved["plan"]), saved.get("timing", {})
        if (plan.chunk, plan.steps_per_epoch) != (job.chunk, job.steps_per_epoch):
            raise TrainError(f"--resume: the training split changed since the training started ({plan.steps_per_epoch} "
                             f"steps an epoch then, {job.steps_per_epoch} now); start it again in a new --out")
    elif budget_s is not None:
        plan, record["timing"] = _budget_plan(job, state, budget_s, start)
    else:
        plan, record["timing"] = job.plan(cfg.epochs), {}
    record["plan"] = dataclasses.asdict(plan)
    _write_json(out / PLAN_FILE, record)

    manager, history = _checkpointer(out), []
    if saved is not None and manager.latest_step() is not None:
        state = manager.restore(manager.latest_step(), args=ocp.args.StandardRestore(state))
        if (out / "history.json").is_file():
            history = [h for h in json.loads((out / "history.json").read_text()) if h["step"] <= int(state.step)]
    state = _train_epochs(job, plan, state, manager, history, out, start, progress)
    train_s = time.perf_counter() - start
    stats, figures = job.measure(state.params, ("val", "test"), CALIBRATION_EXAMPLES)
    summary = {**{k: v for k, v in record.items() if k != "config"}, "train_config": record["config"],
               **{f"{split}_{name}": value for split, pair in figures.items()
                  for name, value in zip(("accuracy", "loss"), pair)},
               "epochs": plan.epochs, "steps": plan.total_steps, "train_s": train_s,
               "wall_s": time.perf_counter() - start, "history": history}
    model_dir.save(out, job.trainer.model, state.params, stats, dataset, summary)
    plot_history(history, out / "report.png", f"{dataset.name}: {genotype}")
    return {**summary, "model_dir": str(out), "report_png": str(out / "report.png")}

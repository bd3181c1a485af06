"""The supernet inner loop the benchmarks measure, at the sizes the brief quotes.

Defaults: C=8, one cell per stage, 16x16 inputs, batch 64, on real data (``digits`` ships
with scikit-learn; ``--dataset mnist`` with ``DIMO_DATA_DIR`` set reads real MNIST).
"""

from __future__ import annotations

import dataclasses
import platform

import jax

from datasets_meta import load
from dimo.supernet import Supernet
from dimo.unroll import InnerConfig, InnerLoop, default_recipe, init_meta_params, make_task


@dataclasses.dataclass(frozen=True)
class Setup:
    dataset: str = "digits"
    channels: int = 8
    cells_per_stage: int = 1
    image_size: int = 16
    batch_size: int = 64
    steps: int = 10
    remat: bool = True
    optimizer: str = "learned"
    loss: str = "teacher"


def build(setup: Setup):
    """(loop, meta, recipe, task) for ``setup``; tasks have fixed shapes (10 classes x 100)."""
    dataset = load(setup.dataset, image_size=setup.image_size)
    task = make_task(dataset, per_class=100)
    cfg = InnerConfig(steps=setup.steps, batch_size=setup.batch_size, val_batch_size=256,
                      optimizer=setup.optimizer, loss=setup.loss, remat=setup.remat)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage), cfg)
    return loop, init_meta_params(jax.random.key(0), cfg), default_recipe(), task


def machine() -> str:
    devices = jax.devices()
    return (f"{platform.machine()} {platform.processor() or ''} {jax.default_backend()} "
            f"x{len(devices)} ({devices[0].device_kind}), jax {jax.__version__}").replace("  ", " ")

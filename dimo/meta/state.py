"""Meta-training's state: what a meta-step carries, where it lives, how it is checkpointed.

``MetaState`` holds the meta-parameters, the outer optimizer's state, the step, when
inner states persist (``dimo.inner.truncation``) one inner state per task slot, and with
``meta.ema_decay`` an exponential moving average of the meta-parameters (Polyak averaging:
what proposals read, so an answer does not hang on the last few noisy meta-steps). On a mesh the
meta-parameters are replicated and the inner states split over the task axis (``place``);
on disk they are a plain dict (``checkpoint_tree``), PRNG keys as raw data.
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import PartitionSpec as P

from dimo.inner import shadow_rate, truncation
from dimo.meta import system as system_lib

AXIS = "tasks"  # the mesh axis tasks are spread over


@flax.struct.dataclass
class MetaState:
    params: Any  # {"embedding", "decoder", "optimizer", "teacher"}
    opt_state: Any
    step: jax.Array
    inner: Any = None  # [tasks_per_step] persistent inner states (dimo.inner.truncation), or None
    ema: Any = None  # moving average of ``params`` (meta.ema_decay > 0), or None
    # [tasks_per_step] shadows of the inner states, their float leaves trained at a slightly higher
    # rate (inner.rate_gradient = "shadow", dimo.inner.shadow_rate), or None
    shadow: Any = None

    @property
    def answer_params(self):
        """The meta-parameters a proposal reads: the moving average where the run keeps one."""
        return self.params if self.ema is None else self.ema


def checkpoint_tree(state: MetaState) -> dict:
    """What a checkpoint holds: a plain dict, with ``inner`` and ``ema`` only when the run
    carries them (so checkpoints of runs without them keep their earlier layout)."""
    tree = {"params": state.params, "opt_state": state.opt_state, "step": state.step}
    if state.ema is not None:
        tree["ema"] = state.ema
    if state.inner is not None:  # PRNG keys as their raw uint32 data: plain arrays on disk
        tree["inner"] = state.inner.replace(key=jax.random.key_data(state.inner.key))
    if state.shadow is not None:
        tree["shadow"] = state.shadow
    return tree


def from_checkpoint_tree(tree: dict) -> MetaState:
    inner = tree.get("inner")
    if inner is not None and not jnp.issubdtype(inner.key.dtype, jax.dtypes.prng_key):
        inner = inner.replace(key=jax.random.wrap_key_data(inner.key))
    return MetaState(tree["params"], tree["opt_state"], tree["step"], inner, tree.get("ema"),
                     tree.get("shadow"))


def population_size(config: ml_collections.ConfigDict) -> int:
    """Persistent inner states a run carries: one per task slot, or none."""
    return config.meta.tasks_per_step if config.inner.lifetime else 0


def init_state(system: system_lib.System, outer: optax.GradientTransformation, seed: int,
               slots: int = 0, ema: bool = False) -> MetaState:
    # One compiled program: run op by op, the initialisers cost ~7 s of small dispatches.
    def init():
        params = system.init(jax.random.key(seed))
        inner = None
        if slots:
            meta = {"optimizer": params["optimizer"], "teacher": params["teacher"]}
            inner = truncation.init_population(system.loop, meta, slots, system.image_shape,
                                               system.num_classes, jax.random.key(seed + 1))
        shadowed = inner is not None and system.loop.cfg.rate_gradient == "shadow"
        return MetaState(params, outer.init(params), jnp.zeros([], jnp.int32), inner,
                         params if ema else None, shadow_rate.float_leaves(inner) if shadowed else None)

    return jax.jit(init)()


def place(state: MetaState, mesh: jax.sharding.Mesh) -> MetaState:
    """The state on the mesh as ``meta_step`` returns it: meta-parameters replicated,
    persistent inner states (and their shadows) split over the task axis."""
    split = jax.device_put((state.inner, state.shadow), jax.sharding.NamedSharding(mesh, P(AXIS)))
    replicated = jax.device_put(state.replace(inner=None, shadow=None), jax.sharding.NamedSharding(mesh, P()))
    return replicated.replace(inner=split[0], shadow=split[1])

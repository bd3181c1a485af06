"""A recurrent, coordinate-wise learned optimizer as an ``optax.GradientTransformation``.

In the spirit of learning-to-learn (Andrychowicz et al., 2016) and Recurrent Inference
Machines: one small GRU, shared by every coordinate of every parameter, reads per-coordinate
features and keeps a per-coordinate hidden state. Features follow learned_optimization's
practice: the gradient, the parameter, momentum accumulators at several timescales and an
Adam-style normalised direction, each scaled by its root-mean-square over the tensor, plus
the training step as ``tanh(t / s)`` at a few timescales.

The update is a residual on a hand-written base direction, with a bounded step::

    direction = base + rms(base) * head_d(h)
    step_size = exp(log_lr) * lr_scale * exp(head_s(h))  # learned magnitude
    update    = -max_step * tanh(step_size * direction / max_step)

``base`` is SGD with momentum, ``m_0.9`` bias-corrected as in Adam (``LOptConfig.base =
"momentum"``), or Adam's ``m_0.9 / sqrt(v_0.999)`` (``"adam"``). The two head outputs are
initialised to zero, so the initial theta *is* the base at ``init_lr`` (up to the tanh bound,
which only bites on huge steps): with ``"momentum"`` and rate 1.0 equal in steady state to
``optax.sgd(0.1, momentum=0.9)``, with ``"adam"`` to ``optax.adam(init_lr, eps=0,
eps_root=1e-8)``. Meta-training starts from an optimizer that trains, and the residual form
means a learned optimizer that learns nothing is no worse than its base at its rate.

>>> import jax, jax.numpy as jnp, optax
>>> cfg = LOptConfig()
>>> opt = learned_optimizer(init_theta(jax.random.key(0), cfg), cfg)
>>> params = {'w': jnp.ones(3)}
>>> state = opt.init(params)
>>> updates, state = opt.update({'w': jnp.ones(3)}, state, params)
>>> params = optax.apply_updates(params, updates)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

_DIRECTION_DECAY = 0.9  # which momentum the base direction uses
_EPS = 1e-8
_WARMUP_FRACTION = 0.05  # the tuned baselines' warm-up (dimo.studies.schedules.WARMUP_FRACTION)
_BASES = ("momentum", "adam")


@dataclasses.dataclass(frozen=True)
class LOptConfig:
    hidden_size: int = 8
    momentum_decays: tuple[float, ...] = (0.5, 0.9, 0.99)
    second_moment_decay: float = 0.999
    time_scales: tuple[float, ...] = (10.0, 100.0, 1000.0)
    # With EMA momentum m = 0.9 m + 0.1 g, a rate of 1.0 takes the steady-state step of
    # heavy-ball SGD at 0.1 with momentum 0.9 (optax.sgd(0.1, momentum=0.9)).
    init_lr: float = 1.0
    # The direction the network corrects: "momentum" (SGD with momentum 0.9) or "adam".
    base: str = "momentum"
    max_step: float = 0.3  # no coordinate moves further than this in one step
    # The horizon H the optimizer is meta-trained for (persistent states' lifetime), or 0.
    # With H, the step count the time features see is clipped at H and one more feature,
    # progress = min(step / H, 1), says how far training is: past H the optimizer acts as it
    # learned to at the end of a life instead of extrapolating tanh(step / 1000) to values
    # meta-training never showed it (the teacher's progress is clipped the same way). Off by
    # default: on cifar10 it did worse than without (docs/results.md, 2026-12-01).
    progress_horizon: int = 0
    # True: a training of T planned steps is the meta-trained life stretched to T. The time
    # features read step * progress_horizon / T, so progress reaches 1 at the training's end
    # whatever its length, as Adam's cosine does at the horizon it is given (the
    # fraction-of-training input of VeLO, Metz et al. 2022). T is ``learned_optimizer``'s
    # ``length`` (in meta-training none: the life is progress_horizon steps). Needs
    # progress_horizon, the persistent states' lifetime.
    stretch_to_length: bool = False
    # True: the step size follows the schedule of the Adam the optimizer is judged against, a
    # linear warm-up over the first 5 % of the (stretched) life and a cosine to 0 at its end
    # (research/lopt/PROTOCOL.md's baselines). With base "adam" and the head at zero the optimizer
    # is then that scheduled Adam at init_lr: the learned part corrects a schedule it need not
    # discover from 10-step truncations. Needs stretch_to_length (past an unstretched life the
    # cosine would stop training).
    base_schedule: bool = False
    # True: the optimizer learns no global rate. ``log_lr`` stays at ``init_lr`` (a rate tuned
    # over the whole horizon, as Adam's is), and the learned log step size is centred on
    # each tensor, so it moves step size between a tensor's coordinates but not the tensor's
    # overall rate. A 10-step truncation's meta-gradient rewards larger steps (short-horizon
    # bias, Wu et al. 2018); with this the learned part cannot follow it.
    fixed_rate: bool = False

    def __post_init__(self):
        if self.base not in _BASES:
            raise ValueError(f"lopt.base must be one of {', '.join(_BASES)}, got {self.base!r}")
        if self.stretch_to_length and not self.progress_horizon:
            raise ValueError("lopt.stretch_to_length stretches the meta-trained life: set lopt.progress_horizon "
                             "to it (the persistent states' inner.lifetime)")
        if self.base_schedule and not self.stretch_to_length:
            raise ValueError("lopt.base_schedule schedules over the stretched life: set lopt.stretch_to_length "
                             "(and lopt.progress_horizon to inner.lifetime)")

    @property
    def num_features(self) -> int:
        return 2 + len(self.momentum_decays) + 1 + self.num_shared_features

    @property
    def num_shared_features(self) -> int:
        """Features every coordinate shares: the time features (and progress, with H)."""
        return len(self.time_scales) + (1 if self.progress_horizon else 0)


class _CoordinateNet(nn.Module):
    """GRU over per-coordinate features, then a zero-initialised 2-output head.

    This module defines the meta-parameters (``init_theta``); updates compute the same
    function with ``_coordinate_net_apply``.
    """

    hidden_size: int

    @nn.compact
    def __call__(self, hidden, features):
        hidden, out = nn.GRUCell(self.hidden_size, name="gru")(hidden, features)
        head = nn.Dense(2, kernel_init=nn.initializers.zeros, name="head")(
            jnp.concatenate([out, features], axis=-1))
        return hidden, head[..., 0], head[..., 1]


_GATES_IN, _GATES_HIDDEN = ("ir", "iz", "in"), ("hr", "hz", "hn")


def _coordinate_net_apply(net_params, hidden, coordinate_features, shared_features):
    """``_CoordinateNet.apply`` in feature-major layout, two matmuls over the coordinates.

    ``hidden`` is ``[H, P]``, ``coordinate_features`` ``[F, P]``, ``shared_features`` ``[S]``
    (the same for every coordinate: the network sees ``[coordinate, shared]`` features).
    Coordinates on the minor axis make each gate a contiguous row block; two
    ``[k, F] @ [F, P]`` products replace the seven ``[P, F] @ [F, k]`` of flax's GRUCell
    (``lopt_over_sgd`` inside a scan 1.12 -> 0.99, docs/benchmarks.md); the shared features fold
    into the biases.
    """
    gru, head = net_params["gru"], net_params["head"]
    h, f = hidden.shape[0], coordinate_features.shape[0]
    input_kernel = jnp.concatenate([gru[g]["kernel"] for g in _GATES_IN], 1)  # [F + S, 3H]
    input_bias = jnp.concatenate([gru[g]["bias"] for g in _GATES_IN])
    head_kernel = head["kernel"]  # rows: [hidden, coordinate features, shared features]
    coordinate_kernel = jnp.concatenate([input_kernel[:f], head_kernel[h:h + f]], 1)
    bias = jnp.concatenate([shared_features @ input_kernel[f:] + input_bias,
                            shared_features @ head_kernel[h + f:] + head["bias"]])
    from_features = coordinate_kernel.T @ coordinate_features + bias[:, None]  # [3H + 2, P]
    hidden_kernel = jnp.concatenate([gru[g]["kernel"] for g in _GATES_HIDDEN], 1)  # [H, 3H]
    from_hidden = hidden_kernel.T @ hidden  # [3H, P]
    reset = jax.nn.sigmoid(from_features[:h] + from_hidden[:h])
    update = jax.nn.sigmoid(from_features[h:2 * h] + from_hidden[h:2 * h])
    candidate = jnp.tanh(from_features[2 * h:3 * h]
                         + reset * (from_hidden[2 * h:] + gru["hn"]["bias"][:, None]))
    hidden = (1.0 - update) * candidate + update * hidden
    out = from_features[3 * h:] + head_kernel[:h].T @ hidden  # [2, P]
    return hidden, out[0], out[1]


def init_theta(key, cfg: LOptConfig) -> dict[str, Any]:
    """Meta-parameters of the optimizer; at these values it is SGD + momentum at init_lr."""
    net = _CoordinateNet(cfg.hidden_size)
    params = net.init(key, jnp.zeros((1, cfg.hidden_size)), jnp.zeros((1, cfg.num_features)))
    return {"net": params["params"], "log_lr": jnp.asarray(math.log(cfg.init_lr), jnp.float32)}


def _life_step(step, cfg: LOptConfig, length=None):
    """``step`` in units of the meta-trained life: rescaled from a ``length``-step training to H
    with ``stretch_to_length``, unchanged otherwise (and in meta-training, where ``length`` is None)."""
    if cfg.stretch_to_length and length is not None:
        return step * float(cfg.progress_horizon) / jnp.maximum(jnp.asarray(length, step.dtype), 1.0)
    return step


def _time_features(step, cfg: LOptConfig, length=None):
    """``tanh(step / s)`` for each time scale, and ``min(step / H, 1)`` with a progress horizon;
    with ``stretch_to_length``, ``step`` first rescaled from a ``length``-step training to H."""
    if not cfg.progress_horizon:
        return jnp.tanh(step / jnp.asarray(cfg.time_scales, step.dtype))
    horizon = float(cfg.progress_horizon)
    clipped = jnp.minimum(_life_step(step, cfg, length), horizon)
    return jnp.concatenate([jnp.tanh(clipped / jnp.asarray(cfg.time_scales, step.dtype)),
                            (clipped / horizon)[None]])


def _schedule(step, cfg: LOptConfig, length=None):
    """The base step size's factor with ``base_schedule``: warm-up and cosine over the life."""
    life = cfg.progress_horizon
    schedule = optax.warmup_cosine_decay_schedule(0.0, 1.0, max(1, int(_WARMUP_FRACTION * life)), life)
    return schedule(_life_step(step, cfg, length))


class LearnedOptimizerState(NamedTuple):
    """Accumulators over the flattened parameter vector (see ``ravel_pytree``)."""

    step: jax.Array
    momenta: tuple  # one [P] vector per decay
    second_moment: jax.Array  # [P]
    hidden: jax.Array  # [hidden_size, P]


def _tensor_layout(params):
    """(segment id of each flat coordinate, number of tensors, coordinates per tensor)."""
    sizes = np.array([int(np.prod(p.shape)) for p in jax.tree.leaves(params)], np.int64)
    return np.repeat(np.arange(len(sizes)), sizes), len(sizes), np.maximum(sizes, 1)


def learned_optimizer(theta, cfg: LOptConfig, lr_scale=1.0, length=None) -> optax.GradientTransformation:
    """The optimizer with meta-parameters ``theta``; ``lr_scale`` multiplies its step size.
    ``length``: the training's planned steps, read only with ``cfg.stretch_to_length``.

    ``theta``, ``lr_scale`` and ``length`` may be tracers: build the transformation inside the
    function being differentiated, as with ``optax.sgd(learning_rate=tracer)``.

    All coordinates are processed as one flat vector, so the GRU appears once in the
    compiled graph whatever the number of tensors (a supernet has dozens, and compile
    time grows with each copy); per-tensor statistics are segment sums over that vector.
    """
    direction_index = cfg.momentum_decays.index(_DIRECTION_DECAY)

    def init_fn(params):
        flat, _ = ravel_pytree(params)
        zeros = jnp.zeros_like(flat)
        return LearnedOptimizerState(jnp.zeros([], jnp.int32), tuple(zeros for _ in cfg.momentum_decays),
                                     zeros, jnp.zeros((cfg.hidden_size,) + flat.shape, flat.dtype))

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("the learned optimizer reads the parameters: pass params to update()")
        g, unravel = ravel_pytree(grads)
        p, _ = ravel_pytree(params)
        segments, num_tensors, sizes = _tensor_layout(params)

        step = state.step.astype(g.dtype)
        momenta = tuple(b * m + (1 - b) * g for b, m in zip(cfg.momentum_decays, state.momenta))
        b2 = cfg.second_moment_decay
        second = b2 * state.second_moment + (1 - b2) * jnp.square(g)
        momentum_direction = momenta[direction_index] / (1.0 - _DIRECTION_DECAY ** (step + 1.0))
        # eps under the root (optax's eps_root): finite meta-gradients where v == 0.
        adam_direction = momentum_direction * jax.lax.rsqrt(second / (1.0 - b2 ** (step + 1.0)) + _EPS)
        base = adam_direction if cfg.base == "adam" else momentum_direction

        # Each row's root-mean-square over each coordinate's own tensor, all rows in one
        # segment sum; sqrt of mean-square + eps: finite value *and* gradient at x == 0
        # (torchopt #26).
        rows = jnp.stack([g, p, *momenta, base])
        sums = jax.ops.segment_sum(jnp.square(rows).T, segments, num_tensors)
        mean_square = sums / jnp.asarray(sizes, g.dtype)[:, None]
        inverse_rms = jax.lax.rsqrt(mean_square + _EPS).T[:, segments]
        coordinate_features = jnp.concatenate(
            [rows[:-1] * inverse_rms[:-1], jnp.clip(adam_direction, -10.0, 10.0)[None]])
        time_features = _time_features(step, cfg, length)
        hidden, head_direction, head_scale = _coordinate_net_apply(
            theta["net"], state.hidden, coordinate_features, time_features)

        direction = base + head_direction / inverse_rms[-1]  # the head's output in units of rms(base)
        log_scale = jnp.clip(head_scale, -5.0, 5.0)
        log_lr = theta["log_lr"]
        if cfg.fixed_rate:
            tensor_mean = jax.ops.segment_sum(log_scale, segments, num_tensors) / jnp.asarray(sizes, g.dtype)
            log_scale = log_scale - tensor_mean[segments]
            log_lr = jax.lax.stop_gradient(log_lr)
        step_size = jnp.exp(log_lr + log_scale) * lr_scale
        if cfg.base_schedule:
            step_size = step_size * _schedule(step, cfg, length)
        update = -cfg.max_step * jnp.tanh(step_size * direction / cfg.max_step)
        return unravel(update.astype(g.dtype)), LearnedOptimizerState(
            state.step + 1, momenta, second, hidden)

    return optax.GradientTransformation(init_fn, update_fn)

"""Baselines on the same supernet and data: DARTS and random search.

* **DARTS** (Liu et al., 2019), as NAS-Bench-201 runs it: architecture logits ``alpha``
  and supernet weights ``w`` updated in alternation, one step each per search step.
  First order: ``grad_alpha L_val(w, alpha)``. Second order, the bilevel formulation:
  ``grad_alpha L_val(w - xi * grad_w L_train(w, alpha), alpha)``, differentiated by
  ``jax.grad`` through the unrolled weight step.
* **Random search**: ``num_candidates`` uniformly drawn genotypes, each trained from
  scratch for ``steps / num_candidates`` steps (same total budget in inner steps), best
  by accuracy on the whole validation split. Candidates are trained as supernets with
  one-hot weights (equal to the discrete network, see tests/test_supernet.py), which lets
  all of them share one compiled program.

Schedules at this machine's budget. DARTS's own schedule (50 CIFAR epochs of ~391 steps,
Adam at 3e-4 on the architecture) lets Adam move each logit by up to ~5.9; at a few
hundred steps the same rate would move it by under 0.1 and leave the mixture uniform.
So the architecture rate is ``ARCH_TRAVEL / steps`` unless given: the same possible
travel as DARTS's schedule, whatever the budget. The weights follow DARTS's cosine decay
from ``weight_lr`` to ``weight_lr / 25`` (0.025 -> 0.001 in DARTS).

Selection and reporting are apart: methods select on the validation split (random
search) or on their architecture weights (DARTS) and never report validation accuracy
as the result; ``dimo search`` trains the selected cell under the cell table's protocol
and reports its test accuracy.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta import Dataset
from dimo import evaluate
from dimo import search_space as ss
from dimo.supernet import Supernet
from dimo.teacher_loss import cross_entropy
from dimo.unroll import InnerConfig, InnerLoop, Recipe, make_task


@dataclasses.dataclass(frozen=True)
class SearchSetup:
    steps: int = 300  # budget in inner (weight) steps
    channels: int = 8
    cells_per_stage: int = 1
    batch_size: int = 64
    weight_lr: float = 0.05
    arch_lr: float | None = None  # None: ARCH_TRAVEL / steps
    num_candidates: int = 5  # random search
    seed: int = 0

    @property
    def arch_learning_rate(self) -> float:
        return self.arch_lr if self.arch_lr is not None else ARCH_TRAVEL / self.steps


# How far Adam may move each architecture logit over DARTS's own schedule: 3e-4 x 50 x 391.
ARCH_TRAVEL = 3e-4 * 50 * 391


def darts(dataset: Dataset, setup: SearchSetup, order: int = 1) -> dict:
    if order not in (1, 2):
        raise ValueError(f"DARTS order must be 1 or 2, got {order}")
    task = make_task(dataset)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage),
                     InnerConfig(batch_size=setup.batch_size, loss="ce", optimizer="sgd"))
    key = jax.random.key(setup.seed)
    init_key, alpha_key, data_key = jax.random.split(key, 3)
    alpha = 1e-3 * jax.random.normal(alpha_key, (ss.NUM_EDGES, ss.NUM_OPS))
    example = jnp.zeros((1,) + dataset.image_shape)
    params = loop.model.init(init_key, example, jax.nn.softmax(alpha))["params"]
    weight_lr = optax.cosine_decay_schedule(setup.weight_lr, setup.steps, alpha=1 / 25)
    w_opt = optax.chain(optax.add_decayed_weights(3e-4), optax.sgd(weight_lr, momentum=0.9))
    a_opt = optax.chain(optax.add_decayed_weights(1e-3),
                        optax.adam(setup.arch_learning_rate, b1=0.5, b2=0.999))

    def loss(params, alpha, batch):
        x, y = batch
        return cross_entropy(loop.model.apply({"params": params}, x, jax.nn.softmax(alpha)), y)

    def search_step(carry, key):
        params, alpha, w_state, a_state = carry
        train_key, val_key = jax.random.split(key)
        train = loop.batch(train_key, task.train, task, setup.batch_size)
        val = loop.batch(val_key, task.val, task, setup.batch_size)
        if order == 1:
            a_grad = jax.grad(loss, 1)(params, alpha, val)
        else:
            def unrolled_val_loss(alpha):  # one virtual weight step, xi = the current weight lr
                w_grad = jax.grad(loss)(params, alpha, train)
                xi = weight_lr(optax.tree_utils.tree_get(w_state, "count"))
                virtual = jax.tree.map(lambda p, g: p - xi * g, params, w_grad)
                return loss(virtual, alpha, val)
            a_grad = jax.grad(unrolled_val_loss)(alpha)
        a_updates, a_state = a_opt.update(a_grad, a_state, alpha)
        alpha = optax.apply_updates(alpha, a_updates)
        train_loss, w_grad = jax.value_and_grad(loss)(params, alpha, train)
        w_updates, w_state = w_opt.update(w_grad, w_state, params)
        params = optax.apply_updates(params, w_updates)
        return (params, alpha, w_state, a_state), train_loss

    run = jax.jit(lambda carry, keys: jax.lax.scan(search_step, carry, keys))
    start = time.perf_counter()
    carry, carry_start = (params, alpha, w_opt.init(params), a_opt.init(alpha)), alpha
    carry, losses = run(carry, jax.random.split(data_key, setup.steps))
    alpha = np.asarray(jax.nn.softmax(carry[1]))
    return {"method": f"darts-{'first' if order == 1 else 'second'}-order", "genotype": str(ss.discretize(alpha)),
            "arch_weights": alpha.tolist(), "initial_arch_weights": np.asarray(jax.nn.softmax(
                jax.device_get(carry_start))).tolist(),
            "arch_lr": setup.arch_learning_rate, "final_train_loss": float(losses[-1]),
            "steps": setup.steps, "search_s": time.perf_counter() - start}


def random_search(dataset: Dataset, setup: SearchSetup) -> dict:
    task = make_task(dataset)
    per_candidate = max(setup.steps // setup.num_candidates, 1)
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage),
                     InnerConfig(steps=per_candidate, batch_size=setup.batch_size, val_batch_size=500,
                                 optimizer="sgd", loss="ce", learning_rate=setup.weight_lr * 2, remat=False))
    rng = np.random.default_rng(setup.seed)
    candidates = [ss.Genotype.from_index(int(i)) for i in rng.integers(0, ss.NUM_CELLS, setup.num_candidates)]

    @jax.jit
    def train(arch_weights, key):
        recipe = Recipe(arch_weights, jnp.ones([]), jnp.asarray(5e-4))
        state = loop.init(key, {"optimizer": None, "teacher": None}, recipe, task)
        return loop.unroll({"optimizer": None, "teacher": None}, recipe, task, state, per_candidate)[0].params

    start, results = time.perf_counter(), []
    for i, genotype in enumerate(candidates):
        recipe = Recipe(jnp.asarray(genotype.one_hot()), jnp.ones([]), jnp.asarray(5e-4))
        params = train(recipe.arch_weights, jax.random.key(setup.seed * 1000 + i))
        # Selection only: the whole validation split, normalised with training statistics.
        results.append({"genotype": str(genotype),
                        "val_accuracy": evaluate.accuracy_on(loop, params, recipe, dataset, "val")})
    best = max(results, key=lambda r: r["val_accuracy"])
    return {"method": "random", "genotype": best["genotype"],
            "arch_weights": ss.Genotype.from_string(best["genotype"]).one_hot().tolist(),
            "candidates": results, "steps": per_candidate * len(candidates),
            "search_s": time.perf_counter() - start}

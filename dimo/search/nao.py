"""NAO, Neural Architecture Optimization (Luo et al., 2018), over the cell's six edges.

An encoder maps a cell (its op per edge, in edge order) to a continuous code, one vector per
edge; a predictor maps the code to the cell's validation accuracy; a decoder maps the code back
to the ops. The three are trained together on the cells evaluated so far (the predictor's
squared error and the decoder's reconstruction cross-entropy, weighted ``trade_off`` and
``1 - trade_off``: reconstruction keeps the code a faithful, decodable map of the space). New
cells come from moving the codes of the best cells so far up the predictor's gradient until
they decode to a connected cell not evaluated yet; they are trained on the shared scorer, and
the model is refitted. A code already at a predicted optimum decodes to itself; then the
next best cells' codes move instead. The search starts from ``initial`` random cells, and when no code moves
to a new cell it trains a random one instead, so every second of the budget evaluates cells.

Compared with the paper: a one-layer LSTM encoder and a per-edge MLP decoder (the paper decodes
with an attention LSTM; six tokens need no autoregression), the step size doubled until the
decoded cell changes, as the paper increases it until a new architecture appears.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta import Dataset
from dimo.search import discrete
from dimo.search.budget import OutOfBudget
from dimo.space import search_space

CAPACITY = 64  # training sets are padded to a multiple: a handful of compiled shapes per search
TRADE_OFF = 0.8  # the paper's weight of the predictor's loss against the reconstruction's


class EncoderPredictorDecoder(nn.Module):
    hidden: int = 32

    def setup(self):
        self.op_embed = nn.Embed(search_space.NUM_OPS, self.hidden)
        self.edge_embed = self.param("edge_embed", nn.initializers.normal(0.1), (search_space.NUM_EDGES, self.hidden))
        self.encoder = nn.RNN(nn.OptimizedLSTMCell(self.hidden))
        self.predictor = nn.Sequential([nn.Dense(self.hidden), nn.relu, nn.Dense(1)])
        self.decoder = nn.Sequential([nn.Dense(self.hidden), nn.relu, nn.Dense(search_space.NUM_OPS)])

    def encode(self, ops):  # [B, 6] op indices -> [B, 6, hidden], unit vectors as in the paper
        code = self.encoder(self.op_embed(ops) + self.edge_embed)
        return code / (jnp.linalg.norm(code, axis=-1, keepdims=True) + 1e-6)

    def predict(self, code):  # -> [B] in (0, 1), the scores' scale after min-max normalisation
        return nn.sigmoid(self.predictor(code.mean(1))[..., 0])

    def decode(self, code):  # -> [B, 6, NUM_OPS] logits
        return self.decoder(code + self.edge_embed)

    def __call__(self, ops):
        code = self.encode(ops)
        return self.predict(code), self.decode(code)


def loss_fn(model, params, ops, targets, mask, trade_off: float):
    prediction, logits = model.apply(params, ops)
    mse = jnp.sum(mask * (prediction - targets) ** 2) / jnp.sum(mask)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, ops).mean(-1)
    return trade_off * mse + (1 - trade_off) * jnp.sum(mask * ce) / jnp.sum(mask)


@functools.partial(jax.jit, static_argnums=(0, 1, 7))
def fit(model, optimizer, params, opt_state, ops, targets, mask, epochs: int):
    """``epochs`` full-batch steps on the padded training set (``mask`` marks real rows)."""
    def step(carry, _):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(lambda p: loss_fn(model, p, ops, targets, mask, TRADE_OFF))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), None, length=epochs)
    return params, opt_state, losses[-1]


@functools.partial(jax.jit, static_argnums=0)
def move(model, params, ops, step_size):
    """Codes of ``ops`` moved ``step_size`` up the predictor's gradient; their decoded ops."""
    code = model.apply(params, ops, method=model.encode)
    grad = jax.grad(lambda c: model.apply(params, c, method=model.predict).sum())(code)
    moved = code + step_size * grad
    return jnp.argmax(model.apply(params, moved, method=model.decode), -1), model.apply(params, moved,
                                                                                         method=model.predict)


def _training_set(history: list[tuple[search_space.Genotype, float]]):
    n = len(history)
    size = CAPACITY * -(-n // CAPACITY)
    ops, targets, mask = np.zeros((size, search_space.NUM_EDGES), np.int32), np.zeros(size, np.float32), np.zeros(size, np.float32)
    scores = np.array([s for _, s in history], np.float32)
    low, high = scores.min(), scores.max()
    for i, (g, s) in enumerate(history):
        ops[i] = [search_space.OPS.index(op) for op in g.ops]
        targets[i] = (s - low) / (high - low) if high > low else 0.5
        mask[i] = 1.0
    return jnp.asarray(ops), jnp.asarray(targets), jnp.asarray(mask)


def propose(model, params, ranked, seen, top_k: int, step_size: float, max_doublings: int) -> list:
    """New connected cells from the codes of the best cells, ``top_k`` at a time down the
    ranking until a batch yields one: a code already at a predicted optimum decodes to itself,
    and the next best cells' codes are moved instead."""
    new = []
    for start in range(0, len(ranked), top_k):
        batch = [g for g, _ in ranked[start:start + top_k]]
        batch += batch[-1:] * (top_k - len(batch))  # one compiled shape
        ops = jnp.asarray([[search_space.OPS.index(op) for op in g.ops] for g in batch], jnp.int32)
        for doubling in range(max_doublings):
            decoded, _ = move(model, params, ops, step_size * 2 ** doubling)
            for row in np.asarray(decoded):
                g = search_space.Genotype(tuple(search_space.OPS[i] for i in row))
                if g.connected and g not in seen and g not in new:
                    new.append(g)
            if new:
                return new
    return new


def nao(score, seed: int, initial: int = 10, top_k: int = 5, epochs: int = 300, hidden: int = 32,
        step_size: float = 0.5, max_doublings: int = 6) -> dict:
    """Cells evaluated by ``score(genotype)`` until it raises ``OutOfBudget``; returns the
    history ([(genotype, score)], in order), which cells the predictor proposed and the model's
    last training loss."""
    model, optimizer = EncoderPredictorDecoder(hidden), optax.adam(3e-3)
    params = model.init(jax.random.key(seed), jnp.zeros((1, search_space.NUM_EDGES), jnp.int32))
    opt_state = optimizer.init(params)
    randoms, history, proposed, losses = discrete.random_cells(seed), [], [], []
    seen = set()

    def evaluate(genotype, by_predictor: bool):
        value = score(genotype)  # raises OutOfBudget: the search ends
        seen.add(genotype)
        history.append((genotype, value))
        if by_predictor:
            proposed.append(str(genotype))

    try:
        for genotype in randoms:
            if len(history) >= initial:
                break
            evaluate(genotype, False)
        while True:
            params, opt_state, loss = fit(model, optimizer, params, opt_state, *_training_set(history), epochs)
            losses.append(float(loss))
            new = propose(model, params, sorted(history, key=lambda h: -h[1]), seen, top_k, step_size,
                          max_doublings)
            for genotype in new:
                evaluate(genotype, True)
            if not new:  # every code decodes to a cell seen: a random one keeps the budget working
                evaluate(next(g for g in randoms if g not in seen), False)
    except (OutOfBudget, StopIteration):
        pass
    return {"history": history, "proposed_by_predictor": proposed, "fit_losses": losses}


def search(dataset: Dataset, setup: discrete.SearchSetup) -> dict:
    scorer = discrete.budgeted_scorer(dataset, setup, setup.evaluations_without_budget)
    out = nao(lambda g: scorer(g, setup.steps_per_candidate), setup.seed)
    return scorer.result("nao", proposed_by_predictor=len(out["proposed_by_predictor"]),
                         fit_losses=out["fit_losses"])

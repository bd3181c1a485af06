"""The learned teacher loss of "Learning to Teach with Dynamic Loss Functions" (Wu et al., 2018).

The student is trained on ``L_phi`` instead of cross-entropy, and the coefficients ``phi``
are chosen at every step by a teacher ``mu_theta(s_t)`` that reads the student's state.
The family generalises cross-entropy with a temperature and the paper's sigmoid term,
written class-count free (``w`` scalar instead of a matrix) so one teacher serves tasks
with any number of classes::

    p = softmax(logits / tau),   tau = exp(phi[0])
    L_phi = -log p_y  -  c * sigmoid(w * log p_y + b),   (c, w, b) = phi[1:]

At ``phi = PHI_CE = (0, 0, 1, 0)`` it is exactly cross-entropy. The teacher's output layer
starts at zero and ``phi = PHI_CE + PHI_RANGE * tanh(out)``, so the initial teacher
teaches with cross-entropy and ``phi`` stays in a bounded box.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

PHI_CE = (0.0, 0.0, 1.0, 0.0)  # (log temperature, c, w, b)
PHI_RANGE = (1.0, 1.0, 2.0, 2.0)


@dataclasses.dataclass(frozen=True)
class TeacherConfig:
    hidden_size: int = 16
    # False: tau stays 1, the teacher sets only (c, w, b). The temperature only rescales the
    # logits the loss sees; the network can undo any scale in its last layer, so what a
    # learned tau changes is the scale of the logits it is left with, and a network trained
    # at tau > 1 is overconfident under the plain cross-entropy it is judged by.
    learn_temperature: bool = True


class StudentState(NamedTuple):
    """What the teacher observes at the start of step t.

    Everything comes from steps before t (running statistics, and the margins of step
    t-1's batch, taken from its forward pass), so phi_t does not depend on the parameters
    the step differentiates: the inner gradient is the gradient of L_phi alone, and no
    ``stop_gradient`` is needed, which keeps the meta-gradient the exact derivative.
    """

    progress: jax.Array  # min(t / K, 1)
    ema_loss: jax.Array  # running cross-entropy of the training batches
    ema_accuracy: jax.Array
    batch_accuracy: jax.Array  # of the previous batch
    margin_mean: jax.Array  # margin = logit of the label - best other logit
    margin_std: jax.Array

    def features(self):
        return jnp.stack(list(self))


def initial_student_state(num_classes: int, dtype=jnp.float32) -> StudentState:
    """The state of an untrained student: chance loss and accuracy, zero margins."""
    chance = jnp.asarray(1.0 / num_classes, dtype)
    zero = jnp.zeros([], dtype)
    return StudentState(zero, -jnp.log(chance), chance, chance, zero, zero)


def observe(previous: StudentState, logits, labels, loss, progress, decay: float = 0.9) -> StudentState:
    """The state after a step whose batch gave ``logits`` and cross-entropy ``loss``.

    ``progress`` (step / K) is clipped at 1: the teacher was meta-trained on horizons of K
    steps and never saw later progress, so past K it teaches as at the end of its horizon
    rather than extrapolating its MLP to inputs it never met.
    """
    label_logit = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    others = jnp.where(jax.nn.one_hot(labels, logits.shape[1], dtype=bool), -jnp.inf, logits)
    margin = label_logit - jnp.max(others, axis=1)
    accuracy = jnp.mean(margin > 0).astype(logits.dtype)
    centred = margin - jnp.mean(margin)
    std = jnp.sqrt(jnp.mean(jnp.square(centred)) + 1e-8)  # eps: finite gradient if all equal
    return StudentState(jnp.minimum(jnp.asarray(progress, logits.dtype), 1.0),
                        decay * previous.ema_loss + (1 - decay) * loss,
                        decay * previous.ema_accuracy + (1 - decay) * accuracy,
                        accuracy, jnp.mean(margin), std)


class Teacher(nn.Module):
    """mu_theta: student state -> phi, an MLP whose zero-initialised output gives PHI_CE."""

    hidden_size: int = 16
    learn_temperature: bool = True

    @nn.compact
    def __call__(self, features):
        h = nn.tanh(nn.Dense(self.hidden_size, name="hidden")(features))
        out = nn.Dense(len(PHI_CE), kernel_init=nn.initializers.zeros, name="out")(h)
        phi_range = PHI_RANGE if self.learn_temperature else (0.0,) + PHI_RANGE[1:]
        return jnp.asarray(PHI_CE, out.dtype) + jnp.asarray(phi_range, out.dtype) * jnp.tanh(out)


def init_teacher(key, cfg: TeacherConfig):
    return Teacher(cfg.hidden_size).init(key, jnp.zeros(len(StudentState._fields)))["params"]


def teacher_phi(params, cfg: TeacherConfig, state: StudentState):
    return Teacher(cfg.hidden_size, cfg.learn_temperature).apply({"params": params}, state.features())


def teacher_loss(phi, logits, labels):
    """Mean L_phi over the batch; equals cross-entropy at ``phi = PHI_CE``."""
    log_temperature, c, w, b = phi[0], phi[1], phi[2], phi[3]
    log_p = jax.nn.log_softmax(logits * jnp.exp(-log_temperature))
    log_p_y = jnp.take_along_axis(log_p, labels[:, None], axis=1)[:, 0]
    return jnp.mean(-log_p_y - c * jax.nn.sigmoid(w * log_p_y + b))


def cross_entropy(logits, labels):
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))

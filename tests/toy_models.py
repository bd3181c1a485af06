"""Small models with the supernet's calling convention ``apply(v, x, arch_weights)``.

They make inner-loop tests cheap to compile; the supernet itself is tested elsewhere.
"""

import flax.linen as nn
import jax.numpy as jnp


class MLP(nn.Module):
    """A one-hidden-layer perceptron; it ignores the architecture weights."""

    num_classes: int
    hidden: int = 32

    @nn.compact
    def __call__(self, x, arch_weights):
        x = x.reshape(x.shape[0], -1)
        return nn.Dense(self.num_classes)(nn.tanh(nn.Dense(self.hidden)(x)))


class MixedLogReg(nn.Module):
    """Logistic regression on features built by 6 smooth mixed 'edges' of 5 ops each.

    Every architecture weight changes the output, and everything is smooth, so central
    finite differences of a meta-loss through it are accurate.
    """

    num_classes: int
    width: int = 8

    @nn.compact
    def __call__(self, x, arch_weights):
        h = nn.Dense(self.width)(x.reshape(x.shape[0], -1))
        for e in range(arch_weights.shape[0]):
            ops = (jnp.zeros_like(h), h, jnp.tanh(nn.Dense(self.width)(h)),
                   nn.softplus(nn.Dense(self.width)(h)) - 0.5, jnp.mean(h, -1, keepdims=True) + 0 * h)
            h = sum(arch_weights[e, o] * op for o, op in enumerate(ops))
        return nn.Dense(self.num_classes)(h)

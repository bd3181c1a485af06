"""Where a vmapped training's time goes: one 3x3 convolution, forward and backward, for W members.

    python -m benchmarks.vmapped_conv [--members 42] [--reps 3] [--out results/benchmarks/vmapped_conv.json]

``dimo.evaluation.many`` vmaps whole trainings, so each member's convolution kernel carries a
batch axis. XLA then lowers the convolutions to grouped ones (``feature_group_count`` = members;
``grouped_convolutions`` counts them in the compiled program). On 2026-12-04, a tuning grid of 42 members
ran slower vmapped than one training at a time on this CPU (``dimo.studies.prefill``'s docstring)
and slowly on the lent H200. This times, at the study's sizes (32 images of 16x16, C=8):

* ``lone``: DiMO's ``conv2d`` for one member, times W (what the lone trainings pay);
* ``vmapped``: ``jax.vmap`` of the same ``conv2d`` over the W members (what ``train_many`` pays);
* ``shifted``: the same convolution as nine matrix products of shifted views, vmapped (batched
  matrix products, no grouped convolution): a candidate formulation, equal to rounding.

Run it on each platform; the GPU's figures decide whether ``train_many`` should use the third.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp

from dimo.infra.manifest import write_manifest
from dimo.space.conv import conv2d


def shifted(x, kernel):
    """A stride-1 SAME 3x3 convolution (NHWC x HWIO) as nine matrix products of shifted views."""
    h, w = x.shape[1:3]
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return sum(jnp.einsum("bhwc,cd->bhwd", padded[:, dy:dy + h, dx:dx + w, :], kernel[dy, dx])
               for dy in range(3) for dx in range(3))


def _seconds(fn, args, reps: int) -> float:
    step = jax.jit(jax.grad(lambda *a: jnp.sum(fn(*a) ** 2), argnums=(0, 1)))
    jax.block_until_ready(step(*args))  # compiled outside the timing
    start = time.perf_counter()
    for _ in range(reps):
        out = step(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / reps


def grouped_convolutions(members: int, batch: int = 4, size: int = 8, channels: int = 8) -> int:
    """How many of the compiled vmapped forward and backward's convolutions are grouped by member."""
    x, kernel = jnp.zeros((members, batch, size, size, channels)), jnp.zeros((members, 3, 3, channels, channels))
    step = jax.jit(jax.grad(lambda x, k: jnp.sum(jax.vmap(conv2d)(x, k) ** 2), argnums=(0, 1)))
    text = step.lower(x, kernel).compile().as_text()
    return sum(f"feature_group_count={members}" in line or f"batch_group_count={members}" in line
               for line in text.splitlines() if "convolution(" in line)


def measure(members: int = 42, reps: int = 3, batch: int = 32, size: int = 16, channels: int = 8) -> dict:
    kx, kk = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (members, batch, size, size, channels))
    kernel = 0.1 * jax.random.normal(kk, (members, 3, 3, channels, channels))
    mismatch = float(jnp.max(jnp.abs(jax.vmap(conv2d)(x, kernel) - jax.vmap(shifted)(x, kernel))))
    lone = _seconds(conv2d, (x[0], kernel[0]), 10 * reps) * members
    return {"platform": jax.default_backend(), "members": members, "shape": [batch, size, size, channels],
            "seconds_forward_backward": {"lone_times_members": lone,
                                         "vmapped": _seconds(jax.vmap(conv2d), (x, kernel), reps),
                                         "shifted_vmapped": _seconds(jax.vmap(shifted), (x, kernel), reps)},
            "max_abs_difference_shifted": mismatch, "grouped_convolutions": grouped_convolutions(members)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=42)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    result = measure(args.members, args.reps)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            f.write(json.dumps(result, indent=1) + "\n")
        write_manifest(args.out, config=vars(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

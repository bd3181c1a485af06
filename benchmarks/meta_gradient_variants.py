"""Issue #17's question for the meta-gradient overhead: which implementation change moves it?

Each variant is ``benchmarks.meta_gradient``'s K=10 point with remat (sgd + cross-entropy,
the reference supernet), measured in a process of its own with the change patched in for that
process only, nothing else running, compilation cache off. The baseline runs first and last,
so the machine's drift over the run shows; a variant is read against the mean of the two.

Variants (what was tried, not what DiMO ships):

* ``save_conv_outputs``: a remat policy that stores every convolution's output of a step
  (``save_only_these_names``), so the backward pass recomputes only the cheap ops; memory
  then grows with K by those outputs.
* ``dots_saveable``: JAX's policy that saves convolution and dot outputs. DiMO's convolution
  is a ``custom_vjp`` (``dimo.space.conv``), so the policy does not see it; measured to show it.
* ``one_pass_batch_norm``: variance as E[x^2] - E[x]^2 (one reduction fewer per layer).
* ``custom_vjp_batch_norm``: the normalisation with its textbook backward (two reductions),
  so the second-order pass differentiates that formula instead of autodiff's expansion.
* ``shifted_sum_pool``: the 3x3 average pool as nine shifted slices of a padded input
  instead of ``lax.reduce_window``.
* ``no_ynnpack``: ``--xla_cpu_experimental_ynn_fusion_type=`` (XLA's own kernels for the
  reductions YNNPACK runs by default).

    python -m benchmarks.meta_gradient_variants --out results/benchmarks/meta_gradient_variants.json
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys

from benchmarks.common import machine, point_main, run_point
from dimo.infra.manifest import write_manifest

VARIANTS = ["baseline", "save_conv_outputs", "dots_saveable", "one_pass_batch_norm",
            "custom_vjp_batch_norm", "shifted_sum_pool", "no_ynnpack", "baseline"]
_FLAGS = {"no_ynnpack": "--xla_cpu_experimental_ynn_fusion_type="}


def _remat_policy(policy):
    """jax.checkpoint with ``policy`` for every caller in this process (only the unroll's here)."""
    import jax

    jax.checkpoint = functools.partial(jax.checkpoint, policy=policy)


def _patch(variant: str) -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from dimo.space import operations

    if variant == "save_conv_outputs":
        from jax.ad_checkpoint import checkpoint_name

        conv2d = operations.conv2d
        operations.conv2d = lambda *a, **k: checkpoint_name(conv2d(*a, **k), "conv_out")
        _remat_policy(jax.checkpoint_policies.save_only_these_names("conv_out"))
    elif variant == "dots_saveable":
        _remat_policy(jax.checkpoint_policies.dots_saveable)
    elif variant == "one_pass_batch_norm":
        def batch_norm(x, scale=None, bias=None):
            mean = jnp.mean(x, axis=(0, 1, 2), keepdims=True)
            var = jnp.maximum(jnp.mean(jnp.square(x), axis=(0, 1, 2), keepdims=True) - jnp.square(mean), 0.0)
            y = (x - mean) * jax.lax.rsqrt(var + operations.BN_EPSILON)
            return y if scale is None else y * scale + bias
        operations.batch_norm = batch_norm
    elif variant == "custom_vjp_batch_norm":
        def normalize_fwd(x):
            centred = x - jnp.mean(x, axis=(0, 1, 2), keepdims=True)
            inverse = jax.lax.rsqrt(jnp.mean(jnp.square(centred), axis=(0, 1, 2), keepdims=True)
                                    + operations.BN_EPSILON)
            return centred * inverse, (centred * inverse, inverse)

        def normalize_bwd(residuals, g):
            normalized, inverse = residuals
            mean = functools.partial(jnp.mean, axis=(0, 1, 2), keepdims=True)
            return (inverse * (g - mean(g) - normalized * mean(g * normalized)),)

        normalize = jax.custom_vjp(lambda x: normalize_fwd(x)[0])
        normalize.defvjp(normalize_fwd, normalize_bwd)
        operations.batch_norm = lambda x, scale=None, bias=None: (
            normalize(x) if scale is None else normalize(x) * scale + bias)
    elif variant == "shifted_sum_pool":
        def avg_pool_3x3(x):
            h, w = x.shape[1:3]
            padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            rows = padded[:, 0:h] + padded[:, 1:h + 1] + padded[:, 2:h + 2]
            total = rows[:, :, 0:w] + rows[:, :, 1:w + 1] + rows[:, :, 2:w + 2]
            ones = np.pad(np.ones((h, w)), 1)
            count = sum(ones[i:i + h, j:j + w] for i in range(3) for j in range(3))
            return total * (1.0 / count)[None, :, :, None].astype(x.dtype)
        operations.avg_pool_3x3 = avg_pool_3x3
    elif variant not in ("baseline", "no_ynnpack"):
        raise ValueError(f"unknown variant {variant!r}; one of {sorted(set(VARIANTS))}")


def measure(variant: str, steps: int = 10, reps: int = 3) -> dict:
    from benchmarks.meta_gradient import measure as meta_gradient

    _patch(variant)
    return {"variant": variant, **meta_gradient(steps, remat=True, reps=reps)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", help="also write the rows and the machine as JSON here")
    args = parser.parse_args(argv)
    rows = []
    for variant in VARIANTS:
        env = {"DIMO_COMPILATION_CACHE": "off"}
        if variant in _FLAGS:
            env["XLA_FLAGS"] = _FLAGS[variant]
        rows.append(run_point("benchmarks.meta_gradient_variants",
                              [json.dumps({"variant": variant, "steps": args.steps})], env=env))
        print(f"{variant:24s} done", file=sys.stderr, flush=True)
    base = statistics.mean(r["meta_grad_s"] for r in rows if r["variant"] == "baseline")
    print(f"meta-gradient K={args.steps} with remat; baseline = mean of the first and last run ({base:.3f} s)")
    print(f"{'variant':24s} {'meta-grad s':>11s} {'vs baseline':>11s} {'plain ms':>9s} "
          f"{'meta/plain':>10s} {'XLA MB':>7s}")
    for r in rows:
        print(f"{r['variant']:24s} {r['meta_grad_s']:11.3f} {r['meta_grad_s'] / base:11.3f} "
              f"{r['plain_step_s'] * 1e3:9.1f} {r['meta_over_plain']:10.2f} {r['xla_buffers_mb']:7.0f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"machine": machine(), "steps": args.steps, "baseline_meta_grad_s": base,
                       "rows": rows}, f, indent=1)
        write_manifest(args.out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("{"):
        sys.exit(point_main(measure))
    sys.exit(main())

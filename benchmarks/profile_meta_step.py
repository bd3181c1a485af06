"""Host-side profile of the default meta-training loop: where the wall time goes.

    python -m benchmarks.profile_meta_step [--steps 12] [--top 25]

Runs ``dimo.meta.meta_train.run`` on the default config for a few meta-steps under
``cProfile`` and prints (1) the run's own timing breakdown and (2) the DiMO functions
with the most cumulative time. Device time shows up inside the blocking call that waits
for the step's metrics (``jax.device_get``); everything else is the host's. This is how
the eager initialisation (7 s of op-by-op dispatch, now one jitted program) and the
re-traced proposal (a fresh ``jax.jit`` per call, now compiled once) were found.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from dimo.configs import default
    from dimo.infra import runtime
    from dimo.meta import meta_train

    runtime.enable_compilation_cache()
    config = default.get_config()
    config.meta.update(steps=args.steps, checkpoint_every=max(args.steps // 3, 1))
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="dimo_profile_") as workdir:
        profile.enable()
        summary = meta_train.run(config, workdir, progress=False)
        profile.disable()
    print("run timing (s):", {k: round(v, 3) if isinstance(v, float) else v
                              for k, v in summary["timing"].items()})
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
    stats.print_stats(r"dimo/|datasets_meta/|jax/_src/api.py.*device_get", args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark shares: the measured setup, timing rules, and one-subprocess points.

Timing rules (issue #7): a program is compiled ahead of time and its compile time reported
apart; it is then called once to warm up, and the figure is the median of ``reps`` calls.
Points whose memory or device count must not mix run in a subprocess of their own
(``run_point``), which prints one JSON line. ``benchmarks.run --quick`` runs two such
processes at a time: each compiles under a shared lock and measures under an exclusive one
(``phase``), so two compiles overlap but nothing runs beside a measurement.

The default setup is the brief's reference: C=8, one cell per stage, 16x16 inputs, batch 64,
on real data (``digits`` ships with scikit-learn; ``--dataset mnist`` with ``DIMO_DATA_DIR``
set reads real MNIST).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_ENV = "DIMO_BENCH_LOCK"  # set by benchmarks.run when point processes run side by side


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
    lopt: tuple = ()  # (name, value) pairs of LOptConfig fields, e.g. (("base", "adam"),)


def build(setup: Setup):
    """(loop, meta, recipe, task) for ``setup``; tasks have fixed shapes (10 classes x 100)."""
    import jax

    from datasets_meta import load
    from dimo.inner.learned_optimizer import LOptConfig
    from dimo.inner.types import default_recipe, make_task
    from dimo.inner.unroll import InnerConfig, InnerLoop, init_meta_params
    from dimo.space.supernet import Supernet

    dataset = load(setup.dataset, image_size=setup.image_size)
    task = make_task(dataset, per_class=100)
    cfg = InnerConfig(steps=setup.steps, batch_size=setup.batch_size, val_batch_size=256,
                      optimizer=setup.optimizer, loss=setup.loss, remat=setup.remat,
                      lopt=LOptConfig(**dict(setup.lopt)))
    loop = InnerLoop(Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage), cfg)
    return loop, init_meta_params(jax.random.key(0), cfg), default_recipe(), task


@contextlib.contextmanager
def phase(kind: str):
    """``with phase("compile")`` / ``with phase("measure")``: the lock protocol above.

    A process compiles while holding the lock shared and measures while holding it
    exclusively, so a measurement never shares the cores with another process's compile or
    measurement. Without ``$DIMO_BENCH_LOCK`` (a point run on its own) it does nothing.
    """
    path = os.environ.get(LOCK_ENV)
    if not path:
        yield
        return
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if kind == "compile" else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def compile_timed(jitted, *args):
    """(compiled program, seconds to trace, lower and compile it)."""
    start = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - start


def median_seconds(call, reps: int, warm_up: bool = True) -> tuple[float, list[float]]:
    """Median wall time of ``call()`` (which must block until done) after one warm-up call.

    ``warm_up=False`` when the caller has just made that call itself.
    """
    if warm_up:
        call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def chained_step_seconds(step, state, steps: int, reps: int) -> float:
    """Median seconds per call of ``state = step(state)``, timed over ``steps`` chained calls."""
    import jax

    def run():
        nonlocal state
        for _ in range(steps):
            state = step(state)
        jax.block_until_ready(state)

    return median_seconds(run, reps)[0] / steps


def compilation_cache_env(use_cache: bool) -> dict:
    """Child-process setting of JAX's persistent compilation cache.

    Off by default, so that compile times are real. With ``use_cache`` (``--quick``) the
    children share a cache of the benchmarks' own: a rerun skips the compiles (its compile
    figures are then cache loads, and ``benchmarks.run`` says so).
    """
    return {"DIMO_COMPILATION_CACHE": str(bench_cache()) if use_cache else "off"}


def bench_cache() -> Path:
    """The quick runs' own persistent compilation cache, beside DiMO's."""
    from dimo.infra import runtime

    return runtime.cache_dir() / "jax_benchmarks"


def run_point(module: str, args: list[str], env: dict | None = None, timeout: float = 1800) -> dict:
    """Runs ``python -m module args`` in a fresh process; its last stdout line is JSON."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                         env=full_env, cwd=ROOT, timeout=timeout)
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{module} {' '.join(args)} failed (exit {out.returncode}):\n{tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def point_main(measure, argv=None) -> int:
    """``python -m benchmarks.X '{"k": 10, ...}'``: print measure(**kwargs) as one JSON line."""
    with phase("compile"):  # importing JAX and DiMO is seconds of CPU: not beside a measurement
        from dimo.infra import runtime
        from dimo.meta import meta_train  # noqa: F401  (meta_train: imports the rest)

        runtime.enable_compilation_cache()  # as DIMO_COMPILATION_CACHE says (off unless --quick)
    kwargs = json.loads((argv or sys.argv[1:])[0])
    print(json.dumps(measure(**kwargs)), flush=True)
    return 0


def peak_rss_mb() -> float:
    import resource

    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # ru_maxrss: KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def machine() -> str:
    import jax

    devices = jax.devices()
    return (f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
            f"{jax.default_backend()} x{len(devices)} ({devices[0].device_kind}), "
            f"jax {jax.__version__}").replace("  ", " ")

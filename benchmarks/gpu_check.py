"""One run on whatever accelerator JAX finds (issue #18): does DiMO work there, how fast, how big.

    python -m benchmarks.gpu_check                       # configs gpu and default (for a GPU/TPU)
    python -m benchmarks.gpu_check --configs smoke       # the same checks at the tests' sizes (CPU)

In order, each part timed and kept even if a later one fails (the JSON is rewritten after each):

1. the tests that exercise the meta-step and its sharding (``tests/test_meta_train.py``);
2. for each config: one plain supernet step (SGD, cross-entropy) and one meta-gradient through
   the config's K steps (``benchmarks.meta_gradient``'s measure, at the config's image size,
   width, batch and K): compile seconds, steady seconds, their ratio ``meta_over_plain`` and
   the device's peak memory (``device.memory_stats()``; CPU has none: null);
3. for each config: ``train_meta.py`` for a few meta-steps on scikit-learn's digits (bundled:
   the device machine has no network and no dataset files), its compile and median meta-step
   seconds and every meta-step's meta-loss.

Writes ``results/benchmarks/gpu_check_<platform>.json`` (``--out`` to change). Compiles are cold: the
persistent compilation cache is off for the measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dimo.infra.manifest import write_manifest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_meta_train.py", "-k", "meta_steps or devices"]
# digits has about 180 images a class: tasks of the configs' sizes take this many a class.
DIGITS_PER_CLASS = 80


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_tests(timeout: float) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *TESTS],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return {"command": "pytest " + " ".join(TESTS), "returncode": proc.returncode,
            "seconds": time.perf_counter() - start, "output_tail": _tail(proc.stdout + proc.stderr)}


def peak_device_bytes() -> int | None:
    import jax

    stats = jax.devices()[0].memory_stats()
    return None if not stats else int(stats.get("peak_bytes_in_use", 0))


def step_costs(config, reps: int) -> dict:
    """Plain step and meta-gradient at ``config``'s sizes (one task, SGD + cross-entropy)."""
    import jax

    from benchmarks.common import Setup, build, chained_step_seconds, compile_timed, median_seconds
    from dimo.inner.unroll import init_inner_state

    k = config.inner.steps
    setup = Setup(dataset="digits", channels=config.model.channels, cells_per_stage=config.model.cells_per_stage,
                  image_size=config.data.image_size, batch_size=config.inner.batch_size, steps=k,
                  remat=config.inner.remat, optimizer="sgd", loss="ce")
    loop, meta, recipe, task = build(setup)
    grad = jax.jit(jax.value_and_grad(loop.meta_loss, argnums=1, has_aux=True))
    compiled, meta_compile_s = compile_timed(grad, meta, recipe, task, jax.random.key(0))
    meta_s, _ = median_seconds(lambda: jax.block_until_ready(compiled(meta, recipe, task, jax.random.key(1))), reps)
    step = jax.jit(lambda state: loop.step(meta, recipe, task, state)[0])
    state = init_inner_state(loop, jax.random.key(2), meta, recipe, task)
    step, plain_compile_s = compile_timed(step, state)
    plain_s = chained_step_seconds(step, state, k, reps)
    return {"image_size": setup.image_size, "channels": setup.channels, "batch_size": setup.batch_size, "K": k,
            "plain_compile_s": plain_compile_s, "plain_step_s": plain_s, "meta_compile_s": meta_compile_s,
            "meta_grad_s": meta_s, "meta_over_plain": meta_s / (k * plain_s),
            "peak_device_bytes": peak_device_bytes()}


def meta_training(name: str, meta_steps: int, timeout: float) -> dict:
    """``train_meta.py --config configs/<name>.py`` for ``meta_steps`` meta-steps on digits."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "run"
        command = [sys.executable, "train_meta.py", "--config", f"configs/{name}.py", "--datasets", "digits",
                   f"--config.meta.steps={meta_steps}", f"--config.task.per_class={DIGITS_PER_CLASS}",
                   "--config.task.support_shots=5", "--workdir", str(workdir)]
        env = {**os.environ, "DIMO_COMPILATION_CACHE": "off"}
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        out = {"command": " ".join(command[1:-2]), "returncode": proc.returncode}
        if proc.returncode:
            return {**out, "output_tail": _tail(proc.stdout + proc.stderr)}
        summary = json.loads((workdir / "summary.json").read_text())
        losses = [json.loads(line)["meta_loss"] for line in (workdir / "metrics.jsonl").read_text().splitlines()]
        return {**out, "timing": summary["timing"], "meta_losses": losses}


def final_training_epoch(timeout: float) -> dict:
    """One epoch of ``dimo train --preset nas-bench-201`` (C=16, N=5, 32x32, batch 256) on digits:
    NAS-Bench-201's own training protocol, an accelerator's job."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "dimo.cli", "train", "--dataset", "digits", "--preset", "nas-bench-201",
                   "--genotype", ALL_3X3, "--epochs", "1", "--json", "--out", str(Path(tmp) / "model")]
        env = {**os.environ, "DIMO_COMPILATION_CACHE": "off"}
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        out = {"command": " ".join(command[1:-2]), "returncode": proc.returncode,
               "wall_s": time.perf_counter() - start}
        if proc.returncode:
            return {**out, "output_tail": _tail(proc.stdout + proc.stderr)}
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        return {**out, **{k: result[k] for k in ("steps", "train_s", "val_accuracy", "test_accuracy")}}


ALL_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="gpu,default", help="names under configs/, comma-separated")
    parser.add_argument("--meta_steps", type=int, default=4, help="meta-steps of each train_meta.py run")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions of each step")
    parser.add_argument("--skip_tests", action="store_true")
    parser.add_argument("--out", help="JSON path (default: results/benchmarks/gpu_check_<platform>.json)")
    args = parser.parse_args(argv)
    os.environ["DIMO_COMPILATION_CACHE"] = "off"  # before JAX is configured: cold compiles

    import importlib

    import jax

    device = jax.devices()[0]
    out = Path(args.out or ROOT / "results" / "benchmarks" / f"gpu_check_{device.platform}.json")
    result = {"device": str(getattr(device, "device_kind", device)), "platform": device.platform,
              "device_count": jax.device_count(), "jax": jax.__version__, "configs": {}}

    def save():
        out.write_text(json.dumps(result, indent=2) + "\n")
        write_manifest(out)

    if not args.skip_tests:
        result["tests"] = run_tests(timeout=300)
        print(f"tests: exit {result['tests']['returncode']} in {result['tests']['seconds']:.0f} s", flush=True)
        save()
    for name in [n.strip() for n in args.configs.split(",") if n.strip()]:
        try:
            config = importlib.import_module(f"dimo.configs.{name}").get_config()
        except ModuleNotFoundError:
            print(f"error: no config dimo/configs/{name}.py; choose among gpu, default, smoke, propose, lopt",
                  file=sys.stderr)
            return 2
        entry = result["configs"][name] = {"steps": step_costs(config, args.reps)}
        print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in entry["steps"].items()
                                      if isinstance(v, float)), flush=True)
        save()
        entry["meta_training"] = meta_training(name, args.meta_steps, timeout=300)
        losses = entry["meta_training"].get("meta_losses")
        print(f"{name}: train_meta exit {entry['meta_training']['returncode']}, meta-losses {losses}", flush=True)
        save()
    result["final_training"] = final_training_epoch(timeout=600)
    print(f"dimo train --preset nas-bench-201, one epoch: exit {result['final_training']['returncode']} in "
          f"{result['final_training']['wall_s']:.0f} s", flush=True)
    save()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

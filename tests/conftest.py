import os

# Must precede importing jax. Several virtual CPU devices, so the sharded paths are exercised.
# Backend optimisation level 0: tests run few steps but compile many programs, and on 2 CPU
# cores this cuts a supernet meta-gradient's compile from ~50 s to ~29 s (its run goes from
# 1.4 s to 3.2 s). XLA:CPU's older fusion code generator, with its concurrency-optimised
# scheduler off, compiles faster still and runs no slower: the smoke meta-training run from
# an empty compilation cache had `timing.compile_s` 39.5 and 41.6 s with these flags against
# 47.1 and 45.0 s without the last two, median step 0.50 s against 0.60 s (2026-11-30, JAX
# 0.10.2; `bash tools/xla_flags_for_tests.sh`). Production runs keep XLA's defaults.
_flags = os.environ.get("XLA_FLAGS", "")
_test_flags = {
    "xla_force_host_platform_device_count": "4",
    "xla_backend_optimization_level": "0",
    "xla_cpu_use_fusion_emitters": "false",
    "xla_cpu_enable_concurrency_optimized_scheduler": "false",
}
for _name, _value in _test_flags.items():
    if _name not in _flags:
        _flags += f" --{_name}={_value}"
os.environ["XLA_FLAGS"] = _flags.strip()
# The suite's evaluations on held-out datasets are checks of the code, not looks of a study: they
# stay out of the committed ledger (dimo/infra/looks.py). Subprocesses inherit this.
os.environ["DIMO_LOOKS_LEDGER"] = "off"

from dimo.infra import runtime  # noqa: E402

runtime.enable_compilation_cache()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as data_files

import pytest  # noqa: E402

# pytest-xdist hands a free worker the next test file in collection order (`--dist loadfile
# --no-loadscope-reorder`, pyproject.toml), so files are collected slowest first: greedy
# longest-first scheduling keeps the two workers' ends close. Slowest first by
# `--durations` from an empty cache on the 2-core development machine (2026-12-02); an
# unlisted file runs after these, and a wrong guess costs balance, not correctness.
SLOWEST_FIRST = [
    "test_cli_search.py", "test_cli.py", "test_inner_loop.py", "reliability/test_numerical_faults.py",
    "test_cli_studies.py", "test_meta_train.py", "test_supernet.py", "test_final.py",
    "test_gradient_search.py", "test_datasets_real.py", "test_meta_objective.py", "test_api.py", "test_shadow_rate.py",
    "test_relaxations.py",
    "reliability/test_bad_input.py", "reliability/test_unwritable_places.py", "test_honest_evaluation.py",
    "test_learned_optimizer.py",
]
# After every other file: it loads the numerical-fault tests' program from the persistent cache
# (compiled beside them it costs a second compile of ~40 s).
LAST = ["test_truncation.py"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    rank = {str(here / name): i for i, name in enumerate(SLOWEST_FIRST)}
    rank.update({str(here / name): len(rank) + 1 + i for i, name in enumerate(LAST)})
    items.sort(key=lambda item: rank.get(str(item.path), len(SLOWEST_FIRST)))  # stable: order within a file kept



# Files whose tests run one meta-step program in-process go to one worker together: the
# program the first of them compiles is then reused from memory, where on the other worker it
# would be traced and loaded from the persistent cache again (20-30 s for these programs).
SHARED_PROGRAM = {"test_cli.py": "smoke", "test_meta_train.py": "smoke", "test_api.py": "smoke",
                  "reliability/test_crash_safety.py": "smoke", "reliability/test_determinism.py": "smoke",
                  "reliability/test_numerical_faults.py": "persistent_smoke", "test_truncation.py": "persistent_smoke"}


@pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist (-p no:xdist) it is never called
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, but the files of ``SHARED_PROGRAM`` that share a program are one unit."""
    from xdist.scheduler import LoadScopeScheduling

    here = Path(__file__).parent.relative_to(config.rootpath).as_posix()
    shared = {f"{here}/{name}": group for name, group in SHARED_PROGRAM.items()}

    class SharedProgramScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return shared.get(path, path)

    return SharedProgramScheduling(config, log)


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory, worker_id):
    """A finished smoke-config meta-training run (digits), shared by the tests that use one.

    One run for the whole session, not one per xdist worker (pytest-xdist's recipe for a
    session fixture: the first worker to ask runs it under a file lock, the others read its
    workdir); the tests only read it.
    """
    from filelock import FileLock

    from dimo.configs import smoke
    from dimo.meta import meta_train

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # under xdist: the workers' common parent
        root = root.parent
    shared = root / "smoke_run"
    with FileLock(f"{shared}.lock"):
        if not (shared / "summary.json").is_file():
            meta_train.run(smoke.get_config(), shared, overwrite=True, progress=False)
    return shared


@pytest.fixture
def short_darts_chunks(monkeypatch):
    """DARTS's budgeted chunks of 10 steps instead of 50: a budget's first unit is a whole
    chunk, and a search step takes ~0.4 s at the tests' optimisation level."""
    from dimo.search import gradient_search

    monkeypatch.setattr(gradient_search, "DARTS_CHUNK", 10)
    return 10

import os

# Must precede importing jax. Several virtual CPU devices, so the sharded paths are exercised.
# Backend optimisation level 0: tests run few steps but compile many programs, and on 2 CPU
# cores this cuts a supernet meta-gradient's compile from ~50 s to ~29 s (its run goes from
# 1.4 s to 3.2 s). Production runs keep XLA's default.
_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
    _flags += " --xla_force_host_platform_device_count=4"
if "xla_backend_optimization_level" not in _flags:
    _flags += " --xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = _flags.strip()

from dimo import runtime  # noqa: E402

runtime.enable_compilation_cache()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as data_files

import pytest  # noqa: E402

# pytest-xdist hands a free worker the next test file in collection order (`--dist loadfile
# --no-loadscope-reorder`, pyproject.toml), so files are collected slowest first: greedy
# longest-first scheduling keeps the two workers' ends close, and the slowest file, the
# first to train the smoke run, has the meta-step in the persistent compilation cache
# before the other worker's first smoke-run file starts. Slowest first by `--durations=0`
# from an empty cache on the 2-core development machine (2026-11-30); an unlisted file
# runs after these, and a wrong guess costs balance, not correctness.
SLOWEST_FIRST = [
    "test_cli.py", "test_cli_search.py", "test_inner_loop.py", "reliability/test_numerical_faults.py",
    "test_meta_train.py", "test_truncation.py", "reliability/test_crash_safety.py", "test_supernet.py",
    "reliability/test_disk_full.py", "reliability/test_unwritable_places.py", "reliability/test_bad_input.py",
    "test_gradient_search.py", "reliability/test_shared_workdir.py", "test_honest_evaluation.py",
    "test_learned_optimizer.py", "test_datasets_real.py", "test_relaxations.py",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    rank = {str(here / name): i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(str(item.path), len(rank)))  # stable: order within a file kept


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory):
    """A finished smoke-config meta-training run (digits), shared by the tests that use one."""
    from dimo.configs import smoke
    from dimo import meta_train

    workdir = tmp_path_factory.mktemp("smoke_run")
    meta_train.run(smoke.get_config(), workdir, overwrite=True, progress=False)
    return workdir

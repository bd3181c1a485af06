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


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory):
    """A finished smoke-config meta-training run (digits), shared by the tests that use one."""
    from dimo.configs import smoke
    from dimo import meta_train

    workdir = tmp_path_factory.mktemp("smoke_run")
    meta_train.run(smoke.get_config(), workdir, overwrite=True, progress=False)
    return workdir

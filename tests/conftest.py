import os

# Several virtual CPU devices so the sharded paths are exercised; must precede importing jax.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

from dimo import runtime  # noqa: E402

runtime.enable_compilation_cache()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as data_files

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory):
    """A finished smoke-config meta-training run (digits), shared by the tests that use one."""
    from configs import smoke
    from dimo import meta_train

    workdir = tmp_path_factory.mktemp("smoke_run")
    meta_train.run(smoke.get_config(), workdir, overwrite=True, progress=False)
    return workdir

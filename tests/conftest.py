import os

# Several virtual CPU devices so the sharded paths are exercised; must precede importing jax.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

from dimo import runtime  # noqa: E402

runtime.enable_compilation_cache()

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as data_files

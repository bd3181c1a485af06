"""Process-level JAX settings shared by the entry points, tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

import jax

from datasets_meta.base import cache_dir  # the one definition: the data package's


class CacheDirError(ValueError):
    """DiMO's cache directory cannot be created; the message names the fix."""


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Turns on JAX's persistent compilation cache: a meta-step compiles in 30-60 s on CPU.

    ``DIMO_COMPILATION_CACHE=off`` leaves it off (the benchmarks time cold compiles);
    ``DIMO_COMPILATION_CACHE=/some/dir`` puts it there.
    """
    setting = os.environ.get("DIMO_COMPILATION_CACHE", "")
    if setting.lower() in ("off", "0", "false"):
        return None
    path = Path(path or setting or cache_dir() / "jax")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheDirError(f"cannot create the cache directory {path} ({e.strerror or e}); point "
                            f"DIMO_CACHE_DIR at a writable folder, or set DIMO_COMPILATION_CACHE=off") from None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    return path

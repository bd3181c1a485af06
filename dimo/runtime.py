"""Process-level JAX settings shared by the entry points, tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

import jax


def cache_dir() -> Path:
    """Where DiMO keeps derived files (decoded datasets, compiled programs); never the repo."""
    return Path(os.environ.get("DIMO_CACHE_DIR", Path.home() / ".cache" / "dimo"))


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Turns on JAX's persistent compilation cache: a meta-step compiles in 30-60 s on CPU."""
    path = Path(path) if path is not None else cache_dir() / "jax"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    return path

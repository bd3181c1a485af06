"""A disk that fills: one line, nothing lost, and --resume continues exactly.

The workdir lives on a tmpfs sized to let the run's first save start but not to hold the
checkpoints it keeps (the size is computed from the session's smoke run), so the real
``train_meta.py`` process stops on a full disk; the test then grows the tmpfs (space freed)
and resumes. A disk that fills during orbax's write itself is the second test.
"""

import json

import pytest
from helpers import SMOKE, metrics_lines, run_train_meta
from mounts import remount, tmpfs

from dimo.infra import integrity
from dimo.meta import meta_train
from dimo.infra import guards as run_guards
from dimo.infra import workdir as workdirs
from dimo.configs import smoke


def _array_bytes(checkpoint) -> int:
    """The bytes of the arrays a run checkpoints (what its first save's space check counts)."""
    import jax
    import orbax.checkpoint as ocp

    restored = ocp.StandardCheckpointer().restore(checkpoint.absolute() / "default")
    return sum(x.nbytes for x in jax.tree.leaves(restored))


def _comparable(lines):
    return [{k: v for k, v in json.loads(line).items() if k not in workdirs.TIMING_KEYS} for line in lines]


@pytest.mark.e2e
def test_a_full_disk_stops_with_one_line_and_resume_continues_exactly(smoke_workdir, tmp_path):
    # Room for the first save's space check (its need is fixed by the arrays' bytes) and
    # config.json, the lock and the metrics beside it, with 64 KiB to spare; the three
    # checkpoints orbax keeps (steps 1, 2, 4) and the check before a fourth need about twice
    # that, so the check before the second or the third save refuses it (both seen). Sizing the disk by another run's checkpoint flaked
    # both ways: a checkpoint's size varies by a quarter with how orbax batched its writes
    # (124-155 KiB for one smoke run), so 2.5 of them once refused the first save and 4 of
    # them once held a whole run.
    first_need = workdirs.checkpoint_space_needed(tmp_path, _array_bytes(smoke_workdir / "checkpoints" / "2"))
    size_kib = first_need // 1024 + 64
    with tmpfs(tmp_path / "small", size_kib) as mount:
        workdir = mount / "run"
        code, err = run_train_meta(*SMOKE, "--workdir", workdir, timeout=600)  # a loaded machine is slow
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err[-3000:]
        assert lines[0].startswith("error: no space left on the disk holding"), lines
        kept = integrity.saved_steps(workdir / "checkpoints")
        assert kept and f"checkpoint {kept[-1]} and the metrics through it are intact" in lines[0]
        assert all(integrity.damage(workdir / "checkpoints" / str(s)) is None for s in kept)
        assert not list((workdir / "checkpoints").glob("*tmp*"))  # the half-written save is gone
        written = metrics_lines(workdir)
        steps = [json.loads(line)["step"] for line in written]  # every line written parses
        assert steps == list(range(1, len(steps) + 1)) and steps[-1] >= kept[-1]

        remount(mount, f"size={size_kib * 8}k")  # space freed
        meta_train.run(smoke.get_config(), workdir, resume=True, progress=False)
        assert _comparable(metrics_lines(workdir)) == _comparable(metrics_lines(smoke_workdir))
        assert integrity.saved_steps(workdir / "checkpoints")[-1] == smoke.get_config().meta.steps


def test_a_disk_that_fills_during_a_write_is_caught_too(tmp_path):
    # The check before a save cannot see another writer filling the disk meanwhile: the
    # write itself then fails with ENOSPC, which ends the run the same way.
    with tmpfs(tmp_path / "tiny", 64) as mount:
        workdir = mount / "run"
        partial = workdir / "checkpoints" / "3.orbax-checkpoint-tmp-1"
        partial.mkdir(parents=True)
        with pytest.raises(run_guards.DiskFull, match="no space left on the disk holding .*no checkpoint"):
            with run_guards.disk_full_stops(workdir):
                (partial / "data").write_bytes(b"x" * (1 << 20))  # a real ENOSPC
        assert not partial.exists()  # the half-written save is removed: its space is free again

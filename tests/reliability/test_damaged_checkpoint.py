"""A checkpoint whose bytes changed after it was written: found, set aside, never restored.

The workdir is a copy of the session's finished smoke run (checkpoints at meta-steps 2, 4
and 6); one byte in the middle of each of the newest checkpoint's array-data files is flipped,
as a bad sector or a faulty copy would.
"""

import json
import shutil

import pytest

from dimo.infra import integrity
from dimo.cli import main as cli
from dimo.meta import meta_train
from dimo.infra import workdir as workdirs
from dimo.configs import smoke


def _flip_a_byte(step_dir):
    """Flips the middle byte of each array-data file (tensorstore's ``d/`` folders; orbax's
    JSON metadata left alone): which copy a restore reads depends on orbax's layout."""
    for target in (p for p in step_dir.rglob("*") if p.is_file() and p.parent.name == "d"):
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))


def _comparable(workdir):
    return [{k: v for k, v in json.loads(line).items() if k not in workdirs.TIMING_KEYS}
            for line in (workdir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def damaged_run(smoke_workdir, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(smoke_workdir, workdir)
    steps = integrity.saved_steps(workdir / "checkpoints")
    assert steps == [2, 4, 6]
    _flip_a_byte(workdir / "checkpoints" / "6")
    return workdir


def test_the_checksums_find_the_flipped_byte_and_only_it(damaged_run):
    checkpoints = damaged_run / "checkpoints"
    assert "does not match its checksum" in integrity.damage(checkpoints / "6")
    assert integrity.damage(checkpoints / "4") is None
    assert integrity.latest_intact(checkpoints)[0] == 4


def test_resume_sets_the_damaged_checkpoint_aside_and_continues_exactly(damaged_run, smoke_workdir, capsys):
    meta_train.run(smoke.get_config(), damaged_run, resume=True, progress=False)
    err = capsys.readouterr().err
    assert "checkpoint 6 is damaged" in err and "resuming from checkpoint 4" in err
    assert _comparable(damaged_run) == _comparable(smoke_workdir)  # cut back to 4, then 5 and 6 again
    assert integrity.saved_steps(damaged_run / "checkpoints")[-1] == 6
    assert integrity.damage(damaged_run / "checkpoints" / "6") is None  # written anew
    assert len(list((damaged_run / integrity.QUARANTINE).iterdir())) == 1  # the damaged one, kept


def test_propose_says_which_checkpoint_it_used(damaged_run, capsys):
    assert cli.main(["propose", "--workdir", str(damaged_run), "--dataset", "digits",
                     "--out", str(damaged_run / "cell.png")]) == 0
    out, err = capsys.readouterr()
    assert "warning: checkpoint 6 of" in err and "using checkpoint 4" in err
    assert "meta-step 4" in out
    assert integrity.saved_steps(damaged_run / "checkpoints") == [2, 4, 6]  # a reader moves nothing

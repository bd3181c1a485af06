"""Every bad input gets one ``error:`` line naming the problem and the fix, exit status 2,
no library traceback, and nothing of an earlier run lost."""

import json
import shutil

import data_files as files
import pytest
from helpers import SMOKE, run_train_meta

from dimo.cli import main as cli
from dimo.infra import workdir as workdirs

GENOTYPE = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if "Warning" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err[-2000:]
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (["--config.inner.stpes=5"], "no key 'stpes' (did you mean 'steps'?)"),
    (["--config.task.transforms=colour:1"], "--config.task.transforms: an experiment switch"),
    (["--config.inner.steps=abc"], "--config.inner.steps=abc"),
    (["--config.inner.steps=0"], "inner.steps=0 is invalid: it must be at least 1"),
    (["--config.meta.learning_rate=-0.1"], "meta.learning_rate=-0.1 is invalid: it must be positive"),
    (["--config.inner.learning_rate=-1"], "inner.learning_rate=-1.0 is invalid: it must be positive"),
    (["--config.decoder.max_lr_scale=0.5"], "decoder.max_lr_scale=0.5 is invalid: it must be at least 1"),
    (["--config.meta.group_learning_rates=optimzer:1e-2"], "meta.group_learning_rates='optimzer:1e-2' is invalid"),
    (["--config=configs/nope.py"], "cannot load the config file"),
    (["--no_such_flag"], "unknown flag --no_such_flag"),
    (["--datasets=imagenet"], "unknown dataset 'imagenet'"),
    (["--datasets=mnist", "--data_dir=/nonexistent/data"], "/nonexistent/data (from --data_dir) does not exist"),
    (["--config.meta.num_devices=64"], "meta.num_devices=64 but only 4 cpu device(s) exist"),
])
def test_train_meta_answers_bad_flags_in_one_line(tmp_path, args, expected):
    code, err = run_train_meta(*SMOKE, "--workdir", tmp_path / "w", *args)
    assert code == 2
    assert expected in _one_line(err)
    assert not (tmp_path / "w" / "metrics.jsonl").exists()


def test_a_finished_run_is_neither_clobbered_nor_resumed_with_other_shapes(smoke_workdir, tmp_path):
    before = (smoke_workdir / "metrics.jsonl").read_text()
    code, err = run_train_meta(*SMOKE, "--workdir", smoke_workdir)
    assert code == 2 and "is not empty; pass --resume" in _one_line(err)
    code, err = run_train_meta(*SMOKE, "--workdir", smoke_workdir, "--resume",
                               "--config.model.channels=8", "--config.task.per_class=9")
    line = _one_line(err)
    assert code == 2 and "model.channels: 4 -> 8" in line and "task.per_class: 8 -> 9" in line
    assert (smoke_workdir / "metrics.jsonl").read_text() == before


def test_resume_accepts_step_size_changes_but_not_shape_changes(tmp_path):
    config = {"meta": {"steps": 4, "learning_rate": 1e-3}, "model": {"channels": 4}}
    workdirs.prepare(tmp_path, config, resume=False, overwrite=False)
    lower = {"meta": {"steps": 8, "learning_rate": 5e-4}, "model": {"channels": 4}}
    assert workdirs.prepare(tmp_path, lower, resume=True, overwrite=False) == {
        "meta.learning_rate": (1e-3, 5e-4), "meta.steps": (4, 8)}
    with pytest.raises(workdirs.WorkdirError, match=r"model.channels: 4 -> 8"):
        workdirs.prepare(tmp_path, {**lower, "model": {"channels": 8}}, resume=True, overwrite=False)


def test_a_run_written_before_a_key_existed_resumes_with_its_off_value_only(tmp_path):
    from dimo.meta import config as config_lib

    def migrate(config):  # what meta_train does to the saved config and to its own
        return config_lib.migrate(config).to_dict()

    old = {"meta": {"steps": 4}, "model": {"channels": 4}}  # before meta.lr_decay_steps existed
    workdirs.prepare(tmp_path, old, resume=False, overwrite=False)
    with pytest.raises(workdirs.WorkdirError, match=r"meta.lr_decay_steps: 0 -> 100"):
        workdirs.prepare(tmp_path, migrate({**old, "meta": {"steps": 4, "lr_decay_steps": 100}}), resume=True,
                         overwrite=False, migrate=migrate)
    assert workdirs.prepare(tmp_path, migrate({**old, "meta": {"steps": 4, "lr_decay_steps": 0}}), resume=True,
                            overwrite=False, migrate=migrate) == {}


def _cli_error(capsys, argv) -> str:
    assert cli.main(argv) == 2
    return _one_line(capsys.readouterr().err)


def _evaluate(dataset, data_dir=None):
    return ["evaluate", "--genotype", GENOTYPE, "--dataset", dataset, "--steps", "1"] + (
        ["--data_dir", str(data_dir)] if data_dir else [])


def test_bad_data_is_answered_in_one_line(capsys, tmp_path):
    # Truncated archive.
    archive = files.write_cifar10_python(tmp_path / "cifar")
    archive.write_bytes(archive.read_bytes()[:600])
    assert "cifar" in _cli_error(capsys, _evaluate("cifar10", tmp_path / "cifar")).lower()
    # Image labels and images that do not match in number.
    arrays = files.write_mnist_like(tmp_path / "mnist" / "mnist")
    files.write_idx(tmp_path / "mnist" / "mnist" / "train-labels-idx1-ubyte.gz",
                    arrays["train-labels-idx1-ubyte"][:-3])
    assert "labels" in _cli_error(capsys, _evaluate("mnist", tmp_path / "mnist"))
    # An empty class folder, and an image that does not decode.
    members = files.image_tree_members()
    tree = files.write_image_tree(tmp_path / "tree", members)
    shutil.rmtree(next(p for p in (tree / "train").iterdir() if p.is_dir()))
    (tree / "train" / "empty_class").mkdir()
    assert "empty_class" in _cli_error(capsys, _evaluate(f"folder:{tree}"))
    broken = files.write_image_tree(tmp_path / "broken", members)
    next((broken / "train").rglob("*.png")).write_bytes(b"not a png at all")
    assert "decode" in _cli_error(capsys, _evaluate(f"folder:{broken}")).lower()


def test_a_command_line_argparse_refuses_is_one_error_line_too(capsys):
    assert "--out" in _cli_error(capsys, ["train", "--dataset", "digits"])
    assert "invalid choice: 'bogus'" in _cli_error(capsys, ["bogus"])
    assert "invalid int value: 'abc'" in _cli_error(capsys, ["evaluate", "--genotype", GENOTYPE, "--dataset",
                                                            "digits", "--steps", "abc"])


def test_bad_genotypes_are_answered_in_one_line(capsys):
    bad_op = GENOTYPE.replace("avg_pool_3x3", "max_pool_5x5")
    assert "max_pool_5x5" in _cli_error(capsys, ["evaluate", "--genotype", bad_op, "--dataset", "digits"])
    bad_edge = GENOTYPE.replace("nor_conv_3x3~2", "nor_conv_3x3~3")
    assert "input 2 of node 3 must read 'nor_conv_3x3~2'" in _cli_error(
        capsys, ["evaluate", "--genotype", bad_edge, "--dataset", "digits"])


def test_propose_needs_a_checkpoint_of_its_own_config(smoke_workdir, capsys, tmp_path):
    empty = tmp_path / "no_checkpoint"
    empty.mkdir()
    shutil.copy(smoke_workdir / "config.json", empty / "config.json")
    assert "no checkpoint yet" in _cli_error(capsys, ["propose", "--workdir", str(empty), "--dataset", "digits"])
    other = tmp_path / "other_config"
    shutil.copytree(smoke_workdir, other)
    config = json.loads((other / "config.json").read_text())
    config["decoder"]["hidden_size"] += 4  # the decoder's weights change shape
    (other / "config.json").write_text(json.dumps(config))
    assert "does not fit its config.json" in _cli_error(
        capsys, ["propose", "--workdir", str(other), "--dataset", "digits"])

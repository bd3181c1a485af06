"""The ledger of looks at held-out test splits (dimo/infra/looks.py, research/dataset_roles.json)."""

import json

from dimo.cli.main import main as dimo_main
from dimo.infra import looks


def test_roles_are_fixed_in_one_file_and_disjoint():
    roles = looks.roles()
    assert roles["meta_training"] == ["digits", "mnist", "fashion_mnist", "kmnist"]
    assert roles["held_out"] == ["cifar10", "tiny_imagenet20"]
    assert not set(roles["meta_training"]) & set(roles["held_out"])


def test_a_held_out_test_figure_is_appended_and_others_are_not(tmp_path, monkeypatch):
    ledger = tmp_path / "looks.jsonl"
    monkeypatch.setenv("DIMO_LOOKS_LEDGER", str(ledger))
    result = {"dataset": "cifar10", "val_accuracy": 0.5, "rows": [{"test_accuracy": 0.41, "seed": 3}]}
    assert looks.record("cifar10", result, command="dimo evaluate x", what="a check")
    assert not looks.record("fashion_mnist", result)  # a meta-training dataset: no look to count
    entry, = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert entry["result"] == {"rows.0.test_accuracy": 0.41} and entry["command"] == "dimo evaluate x"
    assert {"time", "git_revision", "config", "dataset"} <= set(entry)
    assert json.loads(looks.manifest.manifest_path(ledger).read_text())["command"]
    monkeypatch.setenv("DIMO_LOOKS_LEDGER", "off")
    assert not looks.record("cifar10", result)


def test_a_dimo_command_on_a_held_out_dataset_records_its_look(tmp_path, monkeypatch, capsys):
    from dimo.cli import evaluate

    ledger = tmp_path / "looks.jsonl"
    monkeypatch.setenv("DIMO_LOOKS_LEDGER", str(ledger))
    # The command's training is tested in test_cli.py; here only what main() does with its result.
    monkeypatch.setattr(evaluate, "run", lambda args: {"dataset": args.dataset, "test_accuracy": 0.4})
    for dataset in ("cifar10", "mnist"):
        assert dimo_main(["evaluate", "--genotype", "g", "--dataset", dataset, "--json"]) == 0
    assert capsys.readouterr().err.count("this look at its test split is appended") == 1
    entry, = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert (entry["dataset"], entry["what"], entry["result"]) == ("cifar10", "dimo evaluate", {"test_accuracy": 0.4})

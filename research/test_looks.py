"""research.looks: counting the ledger, and a damaged line said in one error line."""

import json

import pytest

from research import looks


def test_counts_by_dataset_and_a_damaged_line_is_named(tmp_path, capsys, monkeypatch):
    ledger = tmp_path / "looks.jsonl"
    entries = [{"dataset": "cifar10", "time": "2026-12-01T00:00:00", "what": "dimo evaluate"},
               {"dataset": "cifar10", "time": "2026-12-02T00:00:00", "source": "results/x/y.json", "reconstructed": True}]
    ledger.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert looks.count(looks.read(ledger), "cifar10", since="2026-12-02")["looks"] == 1
    ledger.write_text(ledger.read_text() + '{"dataset": "cifar10", "ti\n')
    with pytest.raises(looks.LedgerError, match="line 3 of"):
        looks.read(ledger)
    real_read = looks.read
    monkeypatch.setattr(looks, "read", lambda: real_read(ledger))
    assert looks.main(["cifar10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: line 3") and err.count("\n") == 1

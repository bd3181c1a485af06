"""The proposal judge's bookkeeping (the cell table's training replaced by a stand-in)."""

import json

from research.proposals import judge_proposals as jp


def test_judge_proposals_rows_and_the_mean_mixture_of_several_runs(smoke_workdir, monkeypatch, tmp_path):
    # The judge's bookkeeping, with the cell table's training replaced by a stand-in.
    monkeypatch.setattr(jp, "judge_cell", lambda genotype, dataset, table: {
        "test_accuracy_per_seed": [0.5, 0.7], "test_accuracy_mean": 0.6, "table_percentile": None,
        "table_cells": 0})
    one = jp.judge(str(smoke_workdir), ["digits"])
    both = jp.judge(f"{smoke_workdir},{smoke_workdir}", ["digits"])
    # The mean of two identical mixtures is that mixture: the same cell, the runs named.
    assert both["proposals"]["digits"]["genotype"] == one["proposals"]["digits"]["genotype"]
    assert "mean mixture of 2 runs" in both["variant"] and "mean mixture" not in one["variant"]
    assert both["seed"] == "0,0" and both["proposals"]["digits"]["seen_in_meta_training"] is True
    out = tmp_path / "rows.jsonl"
    out.write_text(json.dumps(one) + "\n" + json.dumps(both) + "\n")
    lines = jp.report(str(out)).splitlines()
    assert len(lines) == 4 and f"{smoke_workdir.name}+{smoke_workdir.name}" in lines[3]
    assert "0.6000 (0.5000, 0.7000) | n/a" in lines[2]


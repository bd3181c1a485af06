"""research.comparison.table_best: the predictor read over the whole space, and its reading."""

import json

from research.comparison import meta_validate, table_best


def _row(fold, margin, se):
    return {"fold": fold, "judge_se": se, "cells": [{"val_margin": margin}, {"val_margin": 9.0}]}


def test_the_reading_needs_both_folds_above_by_more_than_their_se_and_reads_the_first_cell_only():
    assert table_best.reading([_row("kmnist", 0.003, 0.002), _row("fashion_mnist", 0.002, 0.001)])["supported"]
    # one fold above by less than its SE: not supported, whatever the second cell did
    assert table_best.reading([_row("kmnist", 0.001, 0.002), _row("fashion_mnist", 0.002, 0.001)])["supported"] is False
    assert table_best.reading([_row("kmnist", -0.01, 0.002), _row("fashion_mnist", -0.01, 0.001)])["supported"] is False
    one = table_best.reading([_row("kmnist", 0.01, 0.002)])
    assert one["supported"] is None and one["missing"] == ["fashion_mnist"]


def test_the_fold_s_own_table_never_teaches_and_the_trivial_cell_is_left_out(monkeypatch):
    asked = []

    def tables(datasets, runs=None):
        asked.append(list(datasets))
        a, b = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|", table_best.ALL_3X3
        c = "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"
        return {"fashion_mnist": {a: 0.8, b: 0.9, c: 0.5}}

    monkeypatch.setattr(meta_validate, "top_judge_tables", tables)
    chosen = table_best.candidates("kmnist", 5)
    assert "kmnist" not in asked[0] and "fashion_mnist" in asked[0]
    assert table_best.ALL_3X3 not in [g for g, _ in chosen] and len(chosen) == 5


def test_the_last_line_per_fold_is_read(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [_row("kmnist", 0.1, 0.0), _row("kmnist", -0.1, 0.0)]) + "\n")
    assert [r["cells"][0]["val_margin"] for r in table_best.read_rows(path)] == [-0.1]

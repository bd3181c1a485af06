"""The cell-table builder: its fixed sample of cells, resume bookkeeping, and the table it writes."""

import dataclasses

from dimo.evaluation import cell_table, evaluate
from dimo.space import search_space
from research.cell_table import build as runner


def test_the_sample_is_fixed_distinct_connected_and_ends_with_the_uniform_cells():
    cells = runner.sample_cells(20)
    assert cells == runner.sample_cells(20) and len(set(cells)) == 24
    assert all(c.connected for c in cells)
    assert [c.ops[0] for c in cells[-4:]] == list(runner.UNIFORM_OPS)


def test_runs_resume_past_a_line_cut_by_a_kill_and_summarize_into_the_table(tmp_path):
    runs = tmp_path / "runs.csv"
    cells = [str(c) for c in runner.sample_cells(4)[:4]]
    for i, g in enumerate(cells):
        for seed in (0, 1):
            acc = 0.1 * (i + 1) + 0.01 * seed
            runner.append_run(runs, {"dataset": "d", "genotype": g, "seed": seed, "val_accuracy": acc,
                                     "test_accuracy": acc, "final_train_loss": 1.0, "params": 10, "train_s": 1.0})
    with runs.open("a") as f:
        f.write("d,|half a line")  # a kill in the middle of a write
    assert len(runner.read_runs(runs)) == 8
    runner.append_run(runs, {"dataset": "e", "genotype": cells[0], "seed": 0, "val_accuracy": 0.5,
                             "test_accuracy": 0.5, "final_train_loss": 1.0, "params": 10, "train_s": 1.0})
    assert [r["dataset"] for r in runner.read_runs(runs)][-1] == "e"  # on a line of its own
    out = tmp_path / "table.csv"
    header = runner.summarize(runner.read_runs(runs), ["d"], 2, out)
    assert header["spearman_seed0_vs_seed1_d"] == "1.000" and header["cells_d"] == "4"
    read_header, table = cell_table.read(out)
    assert read_header["steps"] == str(cell_table.PROTOCOL["steps"])
    assert sorted(table["d"].values()) == [0.105, 0.205, 0.305, 0.405]


def test_percentile_and_judge_only_under_the_protocol(tmp_path):
    assert cell_table.percentile([0.1, 0.2, 0.3, 0.4], 0.35) == 75.0
    assert cell_table.percentile([0.1, 0.2, 0.3, 0.4], 0.3) == 62.5  # a tie counts half
    out = tmp_path / "table.csv"
    runs = [{"dataset": "d", "genotype": str(search_space.Genotype.from_index(i)), "seed": s,
             "val_accuracy": 0.1 * i, "test_accuracy": 0.1 * i, "params": 1} for i in (1, 2, 3) for s in (0, 1)]
    runner.summarize(runs, ["d"], 2, out)
    keys = {k: cell_table.PROTOCOL[k] for k in cell_table.MATCHED_KEYS}
    setup = evaluate.TrainSetup(**keys)
    verdict = cell_table.judge("d", 0.25, setup, cell_table.PROTOCOL["image_size"], out)
    assert verdict["table_percentile"] == 200 / 3 and verdict["table_cells"] == 3
    assert cell_table.judge("d", 0.25, dataclasses.replace(setup, steps=500), 16, out) is None
    assert cell_table.judge("other", 0.25, setup, 16, out) is None


def test_the_top_judges_figures_and_its_bar():
    from research.cell_table import top_judge

    # Five cells, three seeds, ranks agreeing across seeds, seed noise 0.001 against a 0.04 spread.
    per_cell = {f"g{i}": [0.5 + 0.01 * i + 0.001 * s for s in range(3)] for i in range(5)}
    figures = top_judge.reliability(per_cell)
    assert abs(figures["spearman_seed_pairs_mean"] - 1) < 1e-9 and abs(figures["top10_spread"] - 0.04) < 1e-9
    assert abs(figures["se_of_cell_mean_median"] - 0.001 / 3 ** 0.5) < 1e-9
    assert figures["bar_spearman_met"] and figures["bar_resolution_met"]
    noisy = {g: v[:2] + [v[2] + 0.1 * (-1) ** i] for i, (g, v) in enumerate(per_cell.items())}
    assert not top_judge.reliability(noisy)["bar_resolution_met"]
    pct, lo, hi = top_judge.percentile_interval(per_cell, [0.535, 0.536, 0.534], resamples=200)
    assert pct == 80.0 and lo <= pct <= hi  # above four of five cell means (0.501-0.541), tied with none


def test_the_judged_cells_come_from_stage_one_by_validation_then_the_uniform_and_claimed_ones(tmp_path):
    from research.cell_table import top_judge

    cells = [str(c) for c in runner.sample_cells(12)[:12]]
    runs = [{"dataset": "d", "genotype": g, "seed": s, "val_accuracy": 0.1 * i, "test_accuracy": 1 - 0.1 * i,
             "params": 1} for i, g in enumerate(cells) for s in (0, 1)]
    out = tmp_path / "table.csv"
    runner.summarize(runs, ["d"], 2, out)
    chosen = top_judge.judged_cells("d", "pilot", claimed=[cells[0]], path=out)
    assert chosen[:10] == cells[::-1][:10]  # by validation mean, not by test
    assert chosen[10:] == [str(search_space.Genotype((op,) * 6)) for op in ("nor_conv_3x3", "nor_conv_1x1")] + [cells[0]]


def test_a_cells_percentile_in_its_own_table_is_the_first_tables_rule_with_an_interval():
    from research.cell_table import top_judge

    per_cell = {f"g{i}": [0.5 + 0.01 * i + 0.002 * s for s in range(3)] for i in range(5)}
    out = top_judge.table_percentiles(per_cell, resamples=500)
    means = [sum(v) / 3 for v in per_cell.values()]
    for g, (pct, lo, hi) in out.items():
        assert pct == cell_table.percentile(means, sum(per_cell[g]) / 3) and lo <= pct <= hi
    assert out["g4"][0] == 90.0  # the best of five: above four, tied with itself


def test_stage_two_judges_distinct_networks(tmp_path):
    from research.cell_table import top_judge

    # Two strings of one network (one 3x3 convolution from input to output) at the top.
    same = ["|avg_pool_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|none~2|",
            "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|"]
    others = [str(c) for c in runner.sample_cells(40)[:40]]
    cells = same + [c for c in others if search_space.Genotype.from_string(c).pruned()
                    != search_space.Genotype.from_string(same[0]).pruned()]
    runs = [{"dataset": "d", "genotype": g, "seed": s, "val_accuracy": 1 - 0.01 * i, "test_accuracy": 0.5 + 0.01 * i,
             "params": 1} for i, g in enumerate(cells) for s in (0, 1)]
    out = tmp_path / "table.csv"
    runner.summarize(runs, ["d"], 2, out)
    chosen = top_judge.judged_cells("d", "stage2", claimed=[same[1]], path=out)
    assert chosen[0] == same[0] and same[1] not in chosen  # the second string of one network: once
    forms = [search_space.Genotype.from_string(g).pruned() for g in chosen]
    best = top_judge.CELL_SETS["stage2"]
    assert len(set(forms)) == len(forms) and len(chosen) >= best + 1  # the best networks, then the uniform ones
    # The claimed string dropped as a duplicate is found under its network's row.
    assert top_judge.stands_for(chosen, claimed=[same[1], same[0]]) == {same[0]: [same[1]]}


def test_a_dataset_still_being_built_judges_nothing(tmp_path):
    cells = [str(c) for c in runner.sample_cells(4)[:4]]
    runs = [{"dataset": d, "genotype": g, "seed": s, "val_accuracy": 0.1 * i, "test_accuracy": 0.1 * i + 0.01 * s,
             "params": 1} for d, done in (("d", cells), ("e", cells[:3])) for i, g in enumerate(done) for s in (0, 1)]
    out = tmp_path / "table.csv"
    header = runner.summarize(runs, ["d", "e"], 2, out, expected=4)
    assert header["cells_e"] == "3 of 4 (being built)" and header["cells_d"] == "4"
    assert set(cell_table.read(out)[1]) == {"d"}


def test_claims_stand_beside_all_3x3_and_the_transferred_cell(tmp_path):
    from research.cell_table import claims_beside

    a3, judged = claims_beside.ALL_3X3, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|"
    alias = "|avg_pool_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|none~2|"
    rows = [{"dataset": "d", "genotype": g, "test_seed0": t0, "test_seed1": t1, "test_seed2": t2, "percentile": p,
             "percentile_lo95": p, "percentile_hi95": p, "stands_for": s}
            for g, t0, t1, t2, p, s in ((a3, 0.91, 0.92, 0.93, "75.0", ""), (judged, 0.90, 0.90, 0.93, "25.0", alias))]
    runner.write_table(tmp_path / "t.csv", {"protocol": "C", "status": "complete"}, rows, list(rows[0]))
    header, table = claims_beside.table_rows(tmp_path / "t.csv")
    assert table[alias] is table[judged] and table[a3]["tests"] == [0.91, 0.92, 0.93]
    text = claims_beside.markdown("d", header, table, {alias: ["3.2 run"], "|none~0|+|none~0|none~1|+"
                                                       "|nor_conv_1x1~0|none~1|none~2|": ["4.1 x"]},
                                  (a3, [0.91, 0.92, 0.93]))
    assert "| 3.2 run |" in text and "| -0.0100 | -0.0100 |" in text  # the aliased claim, read from its network
    assert "not judged yet" in text and "status: complete" in text

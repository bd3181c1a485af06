"""The comparison's statistics (research.comparison.report): pairing, fixed cells, the bar, the summary."""

import numpy as np
import pytest

A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _compare_json(dataset, gain):
    rng = np.random.default_rng(len(dataset))
    rows = []
    for r in range(3):
        base = 0.5 + 0.002 * rng.standard_normal(3)
        rows += [{"method": "propose", "seed": r, "test_accuracy_per_seed": list(base + gain + 0.001 * rng.standard_normal(3)),
                  "search_s": 2.0},
                 {"method": "random", "seed": r, "test_accuracy_per_seed": list(base), "search_s": 600.0}]
    rows += [{"method": "cell:all-nor_conv_3x3", "seed": None, "test_accuracy_per_seed": [0.5, 0.501, 0.499],
              "search_s": 0.0},
             {"method": "cell:transferred", "seed": None, "test_accuracy_per_seed": [0.49, 0.491, 0.489],
              "search_s": 0.0}]
    return {"dataset": dataset, "judge": "C", "rows": rows}


def test_the_report_pairs_searches_by_run_bootstraps_fixed_cells_and_reads_the_bar():
    from research.comparison import report

    rows = report.compare_dataset(_compare_json("cifar10", 0.01), resamples=500)
    by = {r["baseline"]: r for r in rows}
    assert by["random"]["kind"] == "searched" and by["random"]["delta"] == pytest.approx(0.01, abs=0.002)
    assert by["cell:all-nor_conv_3x3"]["kind"] == "fixed" and by["cell:transferred"]["delta"] > by["random"]["delta"]
    assert all(r["p_holm"] >= r["p"] for r in rows) and all(r["lo95"] <= r["delta"] <= r["hi95"] for r in rows)
    rows += report.compare_dataset(_compare_json("tiny_imagenet20", 0.0005), resamples=500)
    bar = report.acceptance(rows, {"cifar10": 0.002, "tiny_imagenet20": 0.002})
    assert bar["met"] and bar["above_trivial_and_transferred_by_se"] == {"cifar10": True, "tiny_imagenet20": False}
    assert not report.acceptance(rows, {"cifar10": None, "tiny_imagenet20": 0.002})["met"]  # a table not complete
    worse = [dict(r, delta=-0.001) if r["dataset"] == "tiny_imagenet20" and r["baseline"] == "random" else r
             for r in rows]
    assert not report.acceptance(worse, {"cifar10": 0.002, "tiny_imagenet20": 0.002})["met"]


def test_the_report_names_twin_cells_refuses_unpaired_runs_and_gives_the_spread_and_seconds():
    from research import stats
    from research.comparison import report

    result = _compare_json("cifar10", 0.01)
    for row in result["rows"]:  # the transferred cell is all-nor_conv_3x3 itself, as on the held-out datasets
        if row["method"].startswith("cell:"):
            row.update(genotype=A, test_accuracy_per_seed=[0.5, 0.501, 0.499])
    by = {r["baseline"]: r for r in report.compare_dataset(result, resamples=200)}
    assert by["cell:transferred"]["same_network_as"] == ["cell:all-nor_conv_3x3"]
    assert by["cell:transferred"]["delta"] == by["cell:all-nor_conv_3x3"]["delta"] and "same_network_as" not in by["random"]
    entries = report.entry_figures(result, 600.0)
    assert [e["entry"] for e in entries] == ["propose"] and entries[0]["runs"] == 3 and not entries[0]["exceeds_budget"]
    assert entries[0]["sd_over_runs"] == pytest.approx(np.std(entries[0]["per_run"], ddof=1))
    assert report.entry_figures(result, 1.0)[0]["exceeds_budget"]  # 2 s a proposal against a 1 s budget
    unpaired = dict(result, rows=[r for r in result["rows"] if not (r["method"] == "random" and r["seed"] == 2)])
    with pytest.raises(ValueError, match="incomplete"):
        report.compare_dataset(unpaired, resamples=200)
    # One cell on both sides in every run: no spread, p 1 (scipy's t-test would give nan).
    assert stats.paired_t([0.5, 0.6, 0.7], [0.5, 0.6, 0.7])["p"] == 1.0
    assert stats.paired_t([0.51, 0.61, 0.71], [0.5, 0.6, 0.7])["p"] < 0.05


def test_the_report_command_writes_the_summary_with_looks_and_refuses_another_judge(tmp_path, capsys):
    import json

    from research.comparison import report

    paths = []
    for dataset, gain in (("cifar10", 0.01), ("tiny_imagenet20", 0.0)):
        paths.append(tmp_path / f"{dataset}.json")
        paths[-1].write_text(json.dumps(_compare_json(dataset, gain)))
    assert report.main([*map(str, paths), "--meta_training_s", "900,1000,800", "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["meta_training_s"]["amortised_over_held_out_datasets"] == [450.0, 500.0, 400.0]
    assert set(summary["held_out_looks"]) == {"cifar10", "tiny_imagenet20"}
    assert all(n >= 1 for n in summary["held_out_looks"].values())  # the ledger's looks, not a stand-in
    text = (tmp_path / "out" / "summary.md").read_text()
    assert "looks at the held-out test splits" in text
    assert "second claim (propose-verify): not judged" in text  # these stand-ins judge propose alone
    other = tmp_path / "b.json"
    other.write_text(json.dumps(dict(_compare_json("cifar10", 0.01), judge="B")))
    assert report.main([str(other), "--out", str(tmp_path / "out2")]) == 2
    assert "the protocol's judge is C" in capsys.readouterr().err and not (tmp_path / "out2").exists()

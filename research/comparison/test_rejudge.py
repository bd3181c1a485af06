"""The later recipe's comparison: its proposals judged with the run seeds, beside the first
comparison's baselines (research/comparison/rejudge.py)."""

import pytest

from research.comparison import rejudge
from research.comparison.test_comparison import A, B, C, _table


def test_each_runs_proposal_trains_with_the_runs_seeds_and_resumes_from_its_log(smoke_workdir, monkeypatch, tmp_path):
    from dimo.evaluation import judge
    from dimo.meta import trained

    seen = []

    def stand_in(genotype, dataset, protocol, seed):  # the judge's training (tests/test_judge.py)
        seen.append((genotype, dataset.image_shape[0], protocol, seed))
        return {"val_accuracy": 0.7, "test_accuracy": 0.6 + seed / 1e5}

    monkeypatch.setattr(judge, "train", stand_in)
    _table(tmp_path, "digits", {A: 0.9, B: 0.8})
    run = trained.load(smoke_workdir)
    result = rejudge.judge_proposals([run] * 3, "digits", None, tmp_path / "top_judge_digits_C_stage2.csv",
                                     tmp_path / "out")
    assert [(r["method"], r["seed"]) for r in result["rows"]] == [("propose", r) for r in range(3)]
    assert {s for *_, s in seen} == {1000, 1001, 1002, 2000, 2001, 2002, 3000, 3001, 3002}
    assert {(size, protocol) for _, size, protocol, _ in seen} == {(32, "C")}
    assert all(r["training_seeds"] == [1000 * (r["seed"] + 1) + k for k in range(3)] for r in result["rows"])
    calls = len(seen)
    again = rejudge.judge_proposals([run] * 3, "digits", None, tmp_path / "top_judge_digits_C_stage2.csv",
                                    tmp_path / "out")
    assert len(seen) == calls and again["rows"] == result["rows"]  # resumed from its log: nothing trains twice


def _row(method, seed, genotype, accuracy):
    return {"method": method, "seed": seed, "genotype": genotype, "search_s": 1.0,
            "test_accuracy_per_seed": [accuracy] * 3, "test_accuracy_mean": accuracy,
            "table_percentile": None}


def test_the_new_proposals_replace_dimos_rows_and_the_baselines_stay_as_judged(tmp_path):
    earlier = {"dataset": "cifar10", "judge": "C", "meta_training_runs": ["recommended_seed0"],
               "rows": [_row("propose", 0, A, 0.70), _row("propose-verify", 0, B, 0.69), _row("random", 0, C, 0.68),
                        _row("cell:all-nor_conv_3x3", None, A, 0.73)]}
    new = {"dataset": "cifar10", "judge": "C", "rows": [_row("propose", 0, B, 0.71)]}
    path = rejudge.first.RESULTS / "comparison" / "cifar10" / "compare.json"
    combined = rejudge.merged(new, earlier, path, ["recommended_ce_seed0"])
    assert [(r["method"], r["genotype"]) for r in combined["rows"]] == [
        ("propose", B), ("random", C), ("cell:all-nor_conv_3x3", A)]
    assert combined["baselines_from"] == {"path": "results/comparison/cifar10/compare.json",
                                          "meta_training_runs": ["recommended_seed0"],
                                          "not_carried_over": ["propose-verify"]}
    assert combined["meta_training_runs"] == ["recommended_ce_seed0"] and combined["verify"] == 0
    assert {s["method"] for s in combined["summary"]} == {"propose", "random", "cell:all-nor_conv_3x3"}
    with pytest.raises(ValueError, match="differ in dataset"):
        rejudge.merged({**new, "dataset": "tiny_imagenet20"}, earlier, path, [])
    with pytest.raises(ValueError, match=r"differ in budget_s \(600 against 120\)"):
        rejudge.merged({**new, "budget_s": 120}, {**earlier, "budget_s": 600}, path, [])


def test_it_judges_held_out_datasets_only(capsys):
    assert rejudge.main(["--dataset", "kmnist", "--dry_run"]) == 2
    assert capsys.readouterr().err.startswith("error: the comparison judges held-out datasets")

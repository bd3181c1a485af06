"""``dimo search``: each search method end to end on digits, through the console script's
main with --json (the methods' own rules are tested in test_gradient_search.py,
test_search_methods.py and test_successive_halving.py)."""

import numpy as np
import pytest

from dimo.search import darts_pt

from dimo.space import search_space
from cli_calls import run_json


# The gradient-based methods share one loop (dimo.search.gradient_search) and differ in small rules
# tested on their own (tests/test_gradient_search.py); through the command the suite runs random
# search here and DARTS in test_cli.py. Each method costs a compile of its own (~17 s, darts2's
# second-order one ~35 s), so DrNAS's sampled mixtures, DARTS-PT's selection and darts2 run
# end to end among the e2e checks.
@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.e2e) for m in ("darts2", "drnas", "darts-pt")]
                         + ["random"])
def test_search_baselines_select_then_report_the_test_split(capsys, monkeypatch, method):
    # DARTS-PT's 36 accuracy evaluations (6 edges x (the mixture + 5 removals)) read 1,000
    # validation images each; 100 keep the test about its mechanics at a tenth of the cost.
    monkeypatch.setattr(darts_pt, "EVAL_EXAMPLES", 100)
    # The selected cell's training afresh is the same code for every method, and a compile of
    # its own per cell (~8 s): random search's test runs it.
    evaluate_steps = 20 if method == "random" else 0
    result = run_json(capsys, ["search", "--method", method, "--dataset", "digits", "--steps", "6",
                               "--candidates", "2", "--evaluate_steps", str(evaluate_steps)])
    genotype = search_space.Genotype.from_string(result["genotype"])
    assert result["method"].startswith(method.rstrip("2")) and genotype.connected
    if method == "random":
        # The reported figure is the test accuracy of the selected cell trained afresh.
        assert result["evaluation"]["steps"] == 20 and result["evaluation"]["test_accuracy"] > 0.1
        assert max(c["val_accuracy"] for c in result["candidates"]) > 0.1
    else:
        # At this budget the architecture rate lets the weights move (3e-4 would not).
        moved = np.abs(np.subtract(result["arch_weights"], result["initial_arch_weights"])).max()
        assert moved > 0.02, moved
    if method == "darts-pt":  # every edge decided by removal, fine-tuning between decisions
        assert result["decided"] == 6 and len(result["removal_drops"]) == 6
        assert result["steps"] == 6 + 5 * max(6 // 12, 1)


@pytest.mark.parametrize("method", ["evolution", "hyperband", "tpe", "nao"])
def test_discrete_search_methods_run_end_to_end(capsys, method):
    # 3 steps a candidate: the program random search's test compiles (hyperband adds 1 step).
    result = run_json(capsys, ["search", "--method", method, "--dataset", "digits", "--steps", "6",
                               "--candidates", "2", "--evaluate_steps", "0"])
    assert result["method"] == method and search_space.Genotype.from_string(result["genotype"]).connected
    assert result["candidates"] and result["curve"]["seconds"]
    assert result["genotype"] in [c["genotype"] for c in result["candidates"]]
    curve = result["curve"]["best_val_accuracy"]
    assert curve == sorted(curve) and max(curve) > 0.1

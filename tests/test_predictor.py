"""The predictor that reranks DiMO's most probable cells (dimo.search.predictor, dimo propose --rank)."""

import csv

import numpy as np

from cli_calls import run_error, run_json
from dimo.search import predictor
from dimo.space import search_space

A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
B = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"
C = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def test_the_predictor_learns_a_tables_order_and_one_network_is_one_cell():
    conv = {f"|{a}~0|+|{b}~0|{c}~1|+|nor_conv_3x3~0|{d}~1|nor_conv_3x3~2|": 0.5 + 0.1 * n
            for n, (a, b, c, d) in enumerate([("avg_pool_3x3",) * 4, ("skip_connect",) * 4, ("nor_conv_1x1",) * 4,
                                              ("nor_conv_3x3",) * 4])}
    # two tables of different difficulty teach alike (z-scored within each)
    model = predictor.fit({"kmnist": conv, "fashion_mnist": {g: 2 * v for g, v in conv.items()}})
    candidates = [B, A, C]  # the more probable first
    assert predictor.best(model, candidates)[0] == A
    predicted = dict(zip(candidates, predictor.best(model, candidates)[1]))
    assert predicted[A] > predicted[B] > predicted[C]  # the tables' order: conv > pool-skip mixtures
    # one network, two strings (a pooled edge that reaches no output): equal features, the earlier wins
    one = "|none~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    same = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    assert np.array_equal(predictor.features([one]), predictor.features([same]))
    assert predictor.best(model, [same, one])[0] == same and predictor.best(model, [one, same])[0] == one


def test_only_the_named_datasets_tables_teach():
    # the shipped table judges fashion_mnist and kmnist (and held-out datasets) but not digits
    assert list(predictor.cell_table_scores(["digits", "fashion_mnist"])) == ["fashion_mnist"]
    assert predictor.from_cell_table(["digits"]) == (None, [])


def _table_favouring(op: str, path, dataset="digits", cells=40):
    """A cell table whose validation mean counts ``op`` in a cell's pruned form."""
    rng = np.random.default_rng(0)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "genotype", "val_mean"])
        for _ in range(cells):
            g = search_space.Genotype(tuple(str(o) for o in rng.choice(search_space.OPS, search_space.NUM_EDGES)))
            writer.writerow([dataset, str(g), 0.5 + 0.05 * g.pruned().ops.count(op)])
    return path


def test_propose_reranks_by_the_systems_own_datasets_tables(smoke_workdir, capsys, tmp_path, monkeypatch):
    from dimo.evaluation import cell_table

    decoded = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits", "--rank", "0"])
    assert "ranked" not in decoded
    # the shipped table judges no dataset of this system (digits): the decoded cell, said so
    plain = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"])
    assert plain["genotype"] == decoded["genotype"] and "judges none of digits" in plain["ranked"]["note"]

    table = _table_favouring("nor_conv_1x1", tmp_path / "table.csv")
    monkeypatch.setattr(cell_table, "default_path", lambda: table)
    ranked = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits", "--rank", "9"])
    info = ranked["ranked"]
    assert ranked["decoded_genotype"] == decoded["genotype"] and info["taught_by"] == ["digits"]
    assert info["candidates"][0] == decoded["genotype"] and len(info["candidates"]) <= 9
    assert ranked["genotype"] == info["candidates"][int(np.argmax(info["predicted"]))]
    counts = [search_space.Genotype.from_string(c).pruned().ops.count("nor_conv_1x1") for c in info["candidates"]]
    assert counts[info["rank_in_distribution"] - 1] == max(counts)  # the op the table rewards
    from dimo.meta import trained
    from dimo.space.cost import network_cost
    from dimo.space.supernet import Supernet

    config, chosen = trained.load(smoke_workdir).config, search_space.Genotype.from_string(ranked["genotype"])
    net = Supernet(ranked["num_classes"], config.model.channels, config.model.cells_per_stage, affine=True,
                   genotype=chosen)
    assert ranked["params"] == network_cost(net, chosen, tuple(ranked["image_shape"])).params  # the chosen cell's

def test_a_negative_rank_is_one_error_line(smoke_workdir, capsys):
    assert "--rank" in run_error(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits",
                                          "--rank", "-1"])

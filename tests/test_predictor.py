"""The predictor that reranks DiMO's most probable cells (dimo.search.predictor, dimo propose --rank)."""

import csv

import numpy as np

import data_files as files
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


def test_the_best_of_the_whole_space_is_the_argmax_one_per_network_and_leaves_out_what_it_is_told():
    conv = {f"|{a}~0|+|{b}~0|{c}~1|+|nor_conv_3x3~0|{d}~1|nor_conv_3x3~2|": 0.5 + 0.1 * n
            for n, (a, b, c, d) in enumerate([("avg_pool_3x3",) * 4, ("skip_connect",) * 4, ("nor_conv_1x1",) * 4,
                                              ("nor_conv_3x3",) * 4])}
    model = predictor.fit({"kmnist": conv})
    top = predictor.best_of_all(model, 4)
    ops, connected = search_space.cell_op_indices()
    every = [search_space.Genotype.from_op_indices(row) for row in ops[connected]]
    assert top[0][1] == max(model.predict(predictor.features(every)))  # the first is the space's argmax
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    forms = [search_space.Genotype.from_string(g).pruned() for g, _ in top]
    assert len(set(forms)) == len(forms)  # one string per network
    without = predictor.best_of_all(model, 3, exclude=[top[0][0]])
    assert [g for g, _ in without] == [g for g, _ in top[1:]]


def test_only_the_named_datasets_tables_teach():
    # the shipped table judges fashion_mnist and kmnist (and held-out datasets) but not digits
    assert list(predictor.cell_table_scores(["digits", "fashion_mnist"])) == ["fashion_mnist"]
    assert predictor.from_cell_table(["digits"]) == (None, [])


def _table(path, scores: dict[str, float], dataset="digits"):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "genotype", "val_mean"])
        writer.writerows([dataset, g, v] for g, v in scores.items())
    return path


def test_the_teachers_are_the_systems_registry_datasets_never_the_target():
    from types import SimpleNamespace

    system = SimpleNamespace(config=SimpleNamespace(datasets="digits, folder:/x/kmnist,fashion_mnist"))
    assert predictor.teachers(system, "fashion_mnist") == ["digits"]  # its own table would be a lookup
    assert predictor.teachers(system, "cifar10") == ["digits", "fashion_mnist"]  # a folder's stem never teaches


def test_propose_reranks_by_the_systems_own_datasets_tables(smoke_workdir, capsys, tmp_path, monkeypatch):
    from dimo.evaluation import cell_table
    from dimo.meta import trained
    from dimo.space.cost import network_cost
    from dimo.space.supernet import Supernet

    tree = f"folder:{files.write_image_tree(tmp_path / 'tree', files.image_tree_members(per_class=6))}"
    ask = ["propose", "--workdir", str(smoke_workdir), "--dataset", tree]
    decoded = run_json(capsys, ask + ["--rank", "0"])
    assert "ranked" not in decoded
    # the shipped table judges no dataset of this system (digits): the decoded cell, said so
    plain = run_json(capsys, ask)
    assert plain["genotype"] == decoded["genotype"] and "judges none of digits" in plain["ranked"]["note"]

    # A digits table that rewards only the 9th most probable cell and ranks the decoded one low.
    monkeypatch.setattr(cell_table, "default_path", lambda: _table(tmp_path / "flat.csv", {A: 0.5, B: 0.5}))
    candidates = run_json(capsys, ask)["ranked"]["candidates"]
    assert len(candidates) == 9 and candidates[0] == decoded["genotype"]
    scores = {c: (0.9 if c == candidates[-1] else 0.1) for c in candidates}
    monkeypatch.setattr(cell_table, "default_path", lambda: _table(tmp_path / "table.csv", scores))
    ranked = run_json(capsys, ask)
    info = ranked["ranked"]
    assert ranked["decoded_genotype"] == decoded["genotype"] and info["taught_by"] == ["digits"]
    assert info["candidates"] == candidates and ranked["genotype"] != decoded["genotype"]  # it moved
    assert ranked["genotype"] == candidates[int(np.argmax(info["predicted"]))] and info["rank_in_distribution"] > 1
    config, chosen = trained.load(smoke_workdir).config, search_space.Genotype.from_string(ranked["genotype"])
    net = Supernet(ranked["num_classes"], config.model.channels, config.model.cells_per_stage, affine=True,
                   genotype=chosen)
    assert ranked["params"] == network_cost(net, chosen, tuple(ranked["image_shape"])).params  # the chosen cell's
    from dimo.cli import propose  # the table says it in words: "the 9th most probable of 9 cells ..."
    n = info["rank_in_distribution"]
    assert propose._ranked_lines(ranked)[0][1].startswith(f"the {n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th')} most "
                                                          "probable of 9 cells")
    # asked for digits itself, digits' table does not teach: no lookup of the target's own table
    own = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"])
    assert "ranked" in own and own["ranked"]["taught_by"] == [] and own["genotype"] == own["decoded_genotype"]


def test_a_negative_rank_is_one_error_line(smoke_workdir, capsys):
    assert "--rank" in run_error(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits",
                                          "--rank", "-1"])

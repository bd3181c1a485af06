"""The ``dimo`` console script: each subcommand on the smoke config, --json, and errors."""

import json

import numpy as np
import pytest

import data_files as files
from cli_calls import run_error, run_json, run_json_and_err
from dimo.cli import main as cli
from dimo.space import search_space

GENOTYPE = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def test_propose_gives_a_genotype_in_seconds(smoke_workdir, capsys, tmp_path):
    out = tmp_path / "cell.png"
    result, err = run_json_and_err(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset",
                                            "digits", "--out", str(out)])
    assert str(search_space.Genotype.from_string(result["genotype"])) == result["genotype"]
    assert len(result["arch_weights"]) == 6 and result["params"] > 0
    assert out.stat().st_size > 1000
    # The smoke run meta-trained on 3-class tasks; a 10-class dataset is embedded all the same.
    assert result["num_classes"] == 10
    # digits is the smoke run's meta-training dataset: said on stderr and in the JSON.
    assert result["seen_in_meta_training"] is True
    assert "warning: digits was a meta-training dataset" in err


def test_an_exported_system_answers_as_its_run_does(smoke_workdir, capsys, tmp_path):
    from dimo.infra import workdir as workdirs
    from dimo.meta import trained

    exported = trained.export(trained.load(smoke_workdir), tmp_path / "export")
    assert sorted(p.name for p in exported.iterdir()) == ["config.json", trained.PARAMS_FILE]
    ask = ["propose", "--dataset", "digits", "--seed", "3"]
    answers = [run_json(capsys, [*ask, "--workdir", str(w)]) for w in (exported, smoke_workdir)]
    where = ("system", "cell_png", "wall_s", "load_s", "embed_decode_s")  # which folder, and timings
    assert [{k: v for k, v in a.items() if k not in where} for a in answers] == [
        {k: v for k, v in answers[1].items() if k not in where}] * 2
    config = json.loads((exported / "config.json").read_text())  # another config's parameters: refused
    config["decoder"]["hidden_size"] *= 2
    (exported / "config.json").write_text(json.dumps(config))
    with pytest.raises(workdirs.WorkdirError, match="does not fit its config.json"):
        trained.load(exported)


def test_propose_always_gives_a_connected_cell_and_honours_the_seed(smoke_workdir, capsys):
    results = [run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits",
                                 "--seed", str(seed)]) for seed in (0, 1, 2)]
    assert all(r["connected"] and search_space.Genotype.from_string(r["genotype"]).connected
               for r in results)
    # The seed picks the support set the embedding reads, so the soft proposal moves with it.
    assert [r["seed"] for r in results] == [0, 1, 2]
    assert results[0]["arch_weights"] != results[1]["arch_weights"]


def test_propose_verify_checks_the_most_probable_cells_by_successive_halving(smoke_workdir, capsys):
    # 3 steps a cell in the first rung: the program random search's test compiles as well.
    result = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits",
                               "--verify", "6", "--verify_steps", "3"])
    checked = result["verified"]
    assert checked["candidates"][0] == result["genotype"]  # the proposal is the most probable
    assert len({search_space.Genotype.from_string(c).pruned() for c in checked["candidates"]}) == 6
    first, second = checked["rungs"]
    assert (len(first["candidates"]), first["steps"], len(second["candidates"]), second["steps"]) == (6, 3, 2, 9)
    # The best two of the first rung go on (ties to the more probable); the winner is the
    # better of them after 9 steps.
    def ranked(rung):
        return [rung["candidates"][i] for i in sorted(range(len(rung["candidates"])),
                                                      key=lambda i: -rung["val_accuracy"][i])]
    assert second["candidates"] == ranked(first)[:2]
    assert checked["genotype"] == ranked(second)[0]
    assert checked["steps"] == 6 * 3 + 2 * 9


def test_propose_reads_a_users_image_folder(smoke_workdir, capsys, tmp_path):
    tree = files.write_image_tree(tmp_path / "tree", files.image_tree_members(per_class=6))
    result, err = run_json_and_err(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset",
                                            f"folder:{tree}"])
    assert result["num_classes"] == 3
    search_space.Genotype.from_string(result["genotype"])
    assert result["seen_in_meta_training"] is False and "warning" not in err


def test_propose_table_output(smoke_workdir, capsys):
    expected = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"])
    assert cli.main(["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"]) == 0
    rows = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines()
                if line.startswith(("genotype", "connected")))
    assert rows == {"genotype": expected["genotype"], "connected": "yes"}


def test_evaluate_trains_from_scratch_with_sgd_and_with_the_learned_recipe(smoke_workdir, capsys):
    sgd = run_json(capsys, ["evaluate", "--genotype", GENOTYPE, "--dataset", "digits", "--steps", "40",
                            "--workdir", str(smoke_workdir)])
    assert sgd["optimizer"] == "sgd" and 0.0 <= sgd["test_accuracy"] <= 1.0
    assert sgd["val_accuracy"] > 0.2  # 40 steps of SGD on digits beat chance (0.1)
    assert "table_percentile" not in sgd  # 40 steps is not the cell table's protocol
    learned = run_json(capsys, ["evaluate", "--genotype", GENOTYPE, "--dataset", "digits", "--steps", "40",
                                "--optimizer", "learned", "--workdir", str(smoke_workdir)])
    # The learned optimizer starts as SGD with momentum; 6 smoke meta-steps leave it a trainer.
    assert learned["loss"] == "teacher" and learned["test_accuracy"] > 0.2
    assert learned["seen_in_meta_training"] is True


def test_darts_on_a_budget_first_trains_the_weights_alone(capsys, short_darts_chunks):
    # A 1 s budget ends before anything but the first unit: the compile and the warm-up chunk,
    # which trains the weights with the architecture frozen.
    result = run_json(capsys, ["search", "--method", "darts", "--dataset", "digits", "--budget", "1",
                               "--evaluate_steps", "0"])
    assert result["steps"] == short_darts_chunks and result["budget_s"] == 1.0 and result["arch_lr"] == 0.0
    np.testing.assert_allclose(result["arch_weights"], result["initial_arch_weights"], atol=1e-6)
    assert np.isfinite(result["final_train_loss"])


def test_errors(smoke_workdir, capsys, tmp_path):
    assert "does not exist" in run_error(capsys, ["propose", "--workdir", str(tmp_path / "nope"),
                                                  "--dataset", "digits"])
    (tmp_path / "empty").mkdir()
    assert "no config.json" in run_error(capsys, ["propose", "--workdir", str(tmp_path / "empty"),
                                                  "--dataset", "digits"])
    no_checkpoint = tmp_path / "no_checkpoint"
    no_checkpoint.mkdir()
    (no_checkpoint / "config.json").write_text((smoke_workdir / "config.json").read_text())
    assert "no checkpoint" in run_error(capsys, ["propose", "--workdir", str(no_checkpoint),
                                                 "--dataset", "digits"])
    assert "bad token" in run_error(capsys, ["evaluate", "--genotype", GENOTYPE.replace("none", "conv_9x9"),
                                             "--dataset", "digits"])
    assert "need --workdir" in run_error(capsys, ["evaluate", "--genotype", GENOTYPE, "--dataset", "digits",
                                                  "--optimizer", "learned"])
    assert "unknown dataset" in run_error(capsys, ["propose", "--workdir", str(smoke_workdir),
                                                   "--dataset", "imagenet"])


def test_accuracy_does_not_depend_on_how_a_split_is_ordered(capsys, tmp_path):
    # Image folders are stored class by class; batch-statistics normalisation on a batch of a
    # single class would collapse predictions. A class-sorted tree must still score well.
    from datasets_meta import load
    from dimo.evaluation import evaluate

    members = files.image_tree_members(classes=("a", "b", "c", "d"), per_class=40, test_per_class=30)
    dataset = load(f"folder:{files.write_image_tree(tmp_path / 't', members)}", image_size=8)
    assert list(dataset.test_labels) == sorted(dataset.test_labels)  # class-sorted, as stored
    chunks = []  # on_chunk sees every unrolled chunk: the hook research/lopt/teacher_phi.py reads
    result = evaluate.train_genotype(search_space.Genotype.from_string(GENOTYPE), dataset,
                                     evaluate.TrainSetup(steps=60, batch_size=32, channels=4,
                                                         chunk=30, eval_batch=30), progress=False,
                                     on_chunk=lambda step, state, metrics: chunks.append(
                                         (step, int(state.step), metrics["train_loss"].shape)))
    assert result["test_accuracy"] > 0.9  # solid-colour classes are trivially separable
    assert chunks == [(30, 30, (30,)), (60, 60, (30,))]


def test_propose_from_several_seeds_of_one_config(smoke_workdir, capsys, tmp_path):
    import shutil

    one = run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"])
    both = run_json(capsys, ["propose", "--workdir", f"{smoke_workdir},{smoke_workdir}", "--dataset", "digits"])
    # The mean of two identical mixtures is that mixture: the same cell and recipe.
    assert both["genotype"] == one["genotype"] and both["runs"] == [str(smoke_workdir)] * 2
    np.testing.assert_allclose(both["arch_weights"], one["arch_weights"], rtol=1e-6)
    assert both["params"] == one["params"] and both["lr_scale"] == pytest.approx(one["lr_scale"])
    # Runs of different configs are refused, naming the one that differs.
    other = tmp_path / "other"
    shutil.copytree(smoke_workdir, other)
    config = json.loads((other / "config.json").read_text())
    config["meta"]["learning_rate"] *= 2
    (other / "config.json").write_text(json.dumps(config))
    message = run_error(capsys, ["propose", "--workdir", f"{smoke_workdir},{other}", "--dataset", "digits"])
    assert "seeds of one config" in message and str(other) in message

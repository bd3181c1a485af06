"""The public API in dimo/__init__.py, through the README's own example."""

import re
from pathlib import Path

import dimo

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_python_example_runs(tmp_path, capsys):
    example = re.search(r"## In Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len(example.strip().splitlines()) <= 5
    # The shipped system as written; the training shortened to one epoch of a tiny network.
    short = example.replace("budget_s=60", "epochs=1, channels=4, image_size=8, progress=False")
    assert short != example
    exec(short.replace('"digits_model"', repr(str(tmp_path / "model"))), {})
    genotype, accuracy = capsys.readouterr().out.split()
    assert genotype.count("~") == 6 and 0.0 <= float(accuracy) <= 1.0
    assert dimo.load_model(tmp_path / "model").info["genotype"] == genotype


def test_a_system_names_its_meta_training_datasets_and_warns_on_them(smoke_workdir, capsys):
    system = dimo.load_system(smoke_workdir)
    assert system.meta_training_datasets == ["digits"]
    proposal = system.propose("digits")
    assert proposal["seen_in_meta_training"] is True and "warning: digits" in capsys.readouterr().err

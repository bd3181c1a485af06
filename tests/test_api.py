"""The public API in dimo/__init__.py, through the README's own example."""

import re
from pathlib import Path

import dimo

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_python_example_runs(smoke_workdir, capsys):
    example = re.search(r"## In Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len(example.strip().splitlines()) <= 5
    # The example reads the README's first run; here the session's smoke run stands in for it.
    exec(example.replace('"runs/first"', repr(str(smoke_workdir))), {})
    genotype, lr_scale, accuracy = capsys.readouterr().out.split()
    assert dimo.System and genotype.count("~") == 6 and float(lr_scale) > 0 and 0.0 <= float(accuracy) <= 1.0


def test_a_system_names_its_meta_training_datasets_and_warns_on_them(smoke_workdir, capsys):
    system = dimo.load_system(smoke_workdir)
    assert system.meta_training_datasets == ["digits"]
    proposal = system.propose("digits")
    assert proposal["seen_in_meta_training"] is True and "warning: digits" in capsys.readouterr().err

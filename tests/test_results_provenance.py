"""Every committed result has a manifest: the command that wrote it and the revision it ran at."""

import json
import subprocess
from pathlib import Path

import pytest

from dimo.infra import manifest

ROOT = Path(__file__).resolve().parents[1]


def _committed(folders) -> list[Path]:
    """The files git tracks under ``folders``: a study under way keeps working files in results/
    (a comparison's search log) that are not results until it commits them. Without git (an
    unpacked archive), every file."""
    listed = subprocess.run(["git", "ls-files", "-z", *map(str, folders)], cwd=ROOT, capture_output=True)
    if listed.returncode:
        return [p for folder in folders for p in folder.rglob("*")]
    return [ROOT / name for name in listed.stdout.decode().split("\0") if name]


RESULTS = sorted(p for p in _committed([ROOT / "results", ROOT / "dimo" / "evaluation" / "data"])
                 if p.suffix in (".json", ".jsonl", ".csv", ".md")
                 and not p.name.endswith(".manifest.json") and p.name != "README.md")


def test_there_are_results_to_check():
    assert len(RESULTS) > 80


@pytest.mark.parametrize("result", RESULTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_result_names_its_command_and_revision_and_its_uncommitted_inputs(result):
    path = manifest.covering_manifest(result)
    data = json.loads(result.read_text()) if result.suffix == ".json" else None
    embedded = data.get("manifest") if isinstance(data, dict) else None
    assert path.is_file() or embedded, f"{result.relative_to(ROOT)} has no {path.name} and no 'manifest' key"
    record = json.loads(path.read_text()) if path.is_file() else embedded
    assert record["command"].strip() and len(record["git_revision"]) >= 7 and record["date"]
    # Nothing a result says points into the ignored runs/: a reader would find nothing there.
    # Runs are named; their paths live in commands (a manifest's, or a ledger line's own).
    assert "runs/" not in json.dumps(_content(result, data)), "a path into runs/: name the run, or commit what it points at"


def _content(result, data):
    provenance = ("manifest", "command", "config")
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k not in provenance}
    if result.suffix == ".jsonl":
        return [{k: v for k, v in json.loads(line).items() if k not in provenance}
                for line in result.read_text().splitlines() if line.strip()]
    return result.read_text()


def test_a_file_of_a_directory_result_is_covered_by_the_directorys_manifest(tmp_path):
    (tmp_path / "cache").mkdir()
    shard = tmp_path / "cache" / "mnist.jsonl"
    shard.write_text("{}\n")
    assert manifest.covering_manifest(shard) == tmp_path / "cache" / "mnist.manifest.json"  # none yet: its own
    manifest.write_manifest(tmp_path / "cache", command="x")
    assert manifest.covering_manifest(shard) == tmp_path / "cache.manifest.json"
    manifest.write_manifest(shard, command="y")  # a file's own manifest comes first
    assert manifest.covering_manifest(shard) == tmp_path / "cache" / "mnist.manifest.json"


def test_a_written_manifest_names_this_command_and_revision(tmp_path):
    result = tmp_path / "x.json"
    result.write_text("{}")
    record = json.loads(manifest.write_manifest(result, config={"a": 1}, note="n").read_text())
    assert record["result"] == "x.json" and record["config"] == {"a": 1} and record["note"] == "n"
    assert record["command"] and "git_revision" in record and record["machine"]


def test_a_python_c_command_is_not_recorded_as_a_bare_dash_c(monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__spec__=None))
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert manifest.this_command().startswith("python -c ") and "not recorded" in manifest.this_command()
    monkeypatch.setattr(sys, "argv", ["train_meta.py", "--config.seed=1"])
    assert manifest.this_command() == "python train_meta.py --config.seed=1"


def test_an_appended_log_keeps_its_manifest_and_adds_the_command(tmp_path):
    log = tmp_path / "rows.jsonl"
    log.write_text('{"workdir": "runs/a"}\n')
    manifest.write_manifest(log, command="first")
    log.write_text(log.read_text() + '{"workdir": "runs/b"}\n')
    record = json.loads(manifest.write_manifest(log, command="second", append=True).read_text())
    assert record["command"] == "first" and [a["command"] for a in record["appended"]] == ["second"]
    assert record["uncommitted_inputs"] == ["runs/a", "runs/b"]


def test_the_revision_is_dirty_for_changed_code_not_for_results_being_written(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "a.json").write_text("{}\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = manifest.git_revision(tmp_path)
    assert len(head) == 40
    assert manifest.changed_results(tmp_path) == []
    (tmp_path / "results" / "a.json").write_text('{"written": 1}\n')  # a study writing its results
    assert manifest.git_revision(tmp_path) == head
    assert manifest.changed_results(tmp_path) == ["results/a.json"]  # named in its manifests instead
    (tmp_path / "code.py").write_text("x = 2\n")
    assert manifest.git_revision(tmp_path) == head + "-dirty"


def test_a_manifest_is_never_taken_from_another_commands_result(tmp_path):
    log, plot = tmp_path / "a.jsonl", tmp_path / "a.png"  # two results, one manifest name
    log.write_text("{}\n")
    manifest.write_manifest(log, command="python -m study --run 1", append=True)
    plot.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")  # binary: read for paths into runs/ as none
    with pytest.raises(ValueError, match="the manifest of a.jsonl"):
        manifest.write_manifest(plot, command="python -m study --plot")
    assert json.loads((tmp_path / "a.manifest.json").read_text())["result"] == "a.jsonl"
    manifest.write_manifest(log, command="python -m study --run 2", append=True)  # its own log grows
    assert len(json.loads((tmp_path / "a.manifest.json").read_text())["appended"]) == 1
    log.rename(tmp_path / "b.jsonl")  # a result renamed away leaves its old manifest to the name's next owner
    assert json.loads(manifest.write_manifest(plot, command="python -m study --plot").read_text())["result"] == "a.png"

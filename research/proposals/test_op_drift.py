"""research.proposals.op_drift: ops per window of meta-steps, from a run's metrics.jsonl."""

import json

from research.proposals import op_drift

ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
TWO_CONVS = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|"


def test_op_drift_counts_each_ops_edges_per_window(tmp_path, capsys):
    rows = [{"step": s, "genotypes": {"a": TWO_CONVS if s <= 2 else ALL_SKIP, "b": TWO_CONVS}} for s in (1, 2, 3, 4)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    first, second = op_drift.drift(str(tmp_path), window=2)
    assert first["steps"] == (1, 2) and first["nor_conv_3x3"] == 2.0 and first["none"] == 4.0
    assert first["skip_connect"] == 0.0
    # Steps 3-4: dataset a all skips (6 edges), b two convs: means over the 4 logged cells.
    assert second["steps"] == (3, 4) and second["skip_connect"] == 3.0 and second["nor_conv_3x3"] == 1.0
    assert op_drift.main([str(tmp_path), "--window", "2"]) == 0
    assert "| 3-4 |" in capsys.readouterr().out
    assert op_drift.main([str(tmp_path), "--window", "2", "--out", str(tmp_path / "drift.md")]) == 0
    assert (tmp_path / "drift.md").read_text().splitlines()[-1].startswith(f"| {tmp_path.name} | 3-4 |")
    assert (tmp_path / "drift.manifest.json").is_file()
    assert op_drift.main([str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("error:")

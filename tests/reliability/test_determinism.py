"""Same seed, same config, same machine: identical metrics, bit for bit."""

import json

from dimo.configs import smoke
from dimo.meta import meta_train
from dimo.infra import workdir as workdirs


def _metrics(workdir):
    return [{k: v for k, v in json.loads(line).items() if k not in workdirs.TIMING_KEYS}
            for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def test_two_runs_with_one_seed_write_identical_metrics(smoke_workdir, tmp_path):
    meta_train.run(smoke.get_config(), tmp_path, progress=False)
    again, first = _metrics(tmp_path), _metrics(smoke_workdir)
    assert len(again) == smoke.get_config().meta.steps
    assert again == first  # floats compared exactly, through their JSON text
    summaries = [json.loads((w / "summary.json").read_text())["datasets"] for w in (tmp_path, smoke_workdir)]
    assert summaries[0] == summaries[1]

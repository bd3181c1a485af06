"""NaN/Inf injected into the inner loop: skipped, counted, survived; a run of them stops cleanly.

The faults come from the test-only hook ``config.debug.inject_faults`` (``dimo/infra/faults.py``):
a config with faults compiles the hook into its meta-step (one program for every faulty run
here), a config without compiles it out. The runs carry persistent inner states (as
``research/proposals/configs/propose.py`` does): a faulty step must not leave a non-finite network behind for
the meta-steps after it.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from persistent_smoke import persistent_smoke

from dimo.infra import faults

from dimo.meta import meta_train


def _records(workdir):
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def _checkpoint(workdir, step):
    return ocp.StandardCheckpointer().restore((workdir / "checkpoints" / str(step) / "default").absolute())


def test_each_fault_site_is_skipped_counted_and_survived_then_a_run_of_them_stops(tmp_path):
    config = persistent_smoke()
    config.meta.update(steps=10, max_consecutive_bad=3, checkpoint_every=6)  # saves 1, 6, the stop
    # One fault of each kind with good steps between, then three in a row.
    config.debug.inject_faults = "2:inner_gradient,3:batch,5:optimizer_output,7-9:inner_gradient"
    with pytest.raises(meta_train.TrainingError, match=r"3 non-finite meta-gradients in a row at step 9"):
        meta_train.run(config, tmp_path, progress=False)

    records = _records(tmp_path)
    bad = {2, 3, 5, 7, 8, 9}
    assert [r["step"] for r in records] == list(range(1, 10))
    assert [r["skipped"] for r in records] == [r["step"] in bad for r in records]
    assert [r["skipped_total"] for r in records] == [sum(s in bad for s in range(1, r["step"] + 1))
                                                     for r in records]
    for r in records:  # the faulty steps really were non-finite, the others were not
        assert np.isfinite(r["meta_loss"]) == (r["step"] not in bad), r["step"]

    # The stop left a checkpoint of the last good parameters: those after step 6, which the
    # three skipped steps left unchanged bit for bit; the networks it carries are finite too.
    stopped = _checkpoint(tmp_path, 9)
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(stopped["params"]))
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(stopped["inner"])
               if jnp.issubdtype(x.dtype, jnp.inexact))
    for a, b in zip(jax.tree.leaves(stopped["params"]), jax.tree.leaves(_checkpoint(tmp_path, 6)["params"])):
        np.testing.assert_array_equal(a, b)


def test_fault_schedule_is_validated():
    assert faults.parse_schedule("2:batch,4-5:inner_gradient") == {2: 2, 4: 1, 5: 1}
    assert faults.parse_schedule("") == {}
    with pytest.raises(ValueError, match="STEP\\[-STEP\\]:SITE"):
        faults.parse_schedule("2:gpu_on_fire")


def test_after_a_stop_for_bad_steps_resume_goes_on(tmp_path):
    config = persistent_smoke()
    config.meta.update(steps=4, max_consecutive_bad=2, checkpoint_every=100)
    config.debug.inject_faults = "2-3:batch"
    with pytest.raises(meta_train.TrainingError, match="--resume"):
        meta_train.run(config, tmp_path, progress=False)
    # A transient cause (a corrupt batch): the faulty steps are behind the checkpoint, and
    # --resume with the same config goes on. (The advised smaller learning rate is a
    # resumable change too, see test_bad_input; like a config without the fault hook, it
    # would cost a compile here.)
    meta_train.run(config, tmp_path, resume=True, progress=False)
    records = _records(tmp_path)
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert [r["skipped"] for r in records] == [False, True, True, False]

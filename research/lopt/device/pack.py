"""Packs what a lent GPU machine needs for the study's baselines into ``.devdata/`` (git-ignored there).

    DIMO_DATA_DIR=../shared/data python -m research.lopt.device.pack    # then: research/lopt/device/run.sh

The device machine sees the checkout only, not ``../shared``, and carries at most 64 MiB. So each
dataset goes as ``datasets_meta.load``'s output at the study's sizes (16x16x3 uint8; an xz pickle,
27 MB for five), except cifar10, whose arrays hardly compress: its source archive (19 MB) goes
and is decoded there. Name ``.devdata`` (and ``.whl``, ml_collections' wheel: ``pip download
--no-deps --only-binary=:all: --python-version 3.12 -d .whl ml_collections==1.1.0``) in ``carry``.
"""

from __future__ import annotations

import lzma
import pickle
import shutil
import types

from research import protocol
from research.lopt.leave_one_out import REPO

DEVDATA = REPO / ".devdata"
AS_SOURCE = {"cifar10": "cifar10_jpeg"}  # dataset -> its folder under the data directory


def main(argv=None) -> int:
    import os

    from dimo.studies import schedules
    from research.lopt.configs import scheduled

    trained = types.SimpleNamespace(config=scheduled.get_config())
    DEVDATA.mkdir(exist_ok=True)
    for name in [*protocol.META_TRAINING, *protocol.HELD_OUT]:
        if name in AS_SOURCE:
            source = os.path.join(os.environ.get("DIMO_DATA_DIR", "../shared/data"), AS_SOURCE[name])
            shutil.copytree(source, DEVDATA / "data" / AS_SOURCE[name], dirs_exist_ok=True)
            continue
        with lzma.open(DEVDATA / f"{name}.pkl.xz", "wb") as f:
            pickle.dump(schedules.load(trained, name), f)
        print(f"{name}: {(DEVDATA / f'{name}.pkl.xz').stat().st_size / 1e6:.1f} MB", flush=True)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

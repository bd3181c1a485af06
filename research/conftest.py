"""Fixtures of the research scripts' tests (``python -m pytest research``): one smoke run."""

import os

import pytest

os.environ["DIMO_LOOKS_LEDGER"] = "off"  # the scripts' tests are not looks (dimo/infra/looks.py)


@pytest.fixture(scope="session")
def smoke_workdir(tmp_path_factory):
    """A finished smoke-config meta-training run (digits), shared by the tests that read one."""
    from dimo.configs import smoke
    from dimo.meta import meta_train

    workdir = tmp_path_factory.mktemp("smoke") / "run"
    meta_train.run(smoke.get_config(), workdir, progress=False)
    return workdir

"""The meta-trained DiMO shipped in the package (package data): ``system/`` is a workdir holding
``config.json`` and its newest checkpoint, ``manifest.json`` how it was made. Loaded by
``dimo.meta.trained.pretrained_workdir``; rebuilt by ``python -m tools.build_pretrained``."""

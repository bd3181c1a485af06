"""Configs as Python files returning ``ml_collections.ConfigDict`` (big_vision style).

They live inside the ``dimo`` package so that an installed DiMO has them (the ``dimo``
command reads the default sizes) without claiming a top-level ``configs`` package; the
repository's ``configs/*.py`` re-export them for ``train_meta.py --config configs/x.py``.
"""

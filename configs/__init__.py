"""Configs as Python files returning ``ml_collections.ConfigDict`` (big_vision style)."""

"""The `dimo` command."""

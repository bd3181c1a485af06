"""Benchmarks: what DiMO costs, measured side by side. Not part of the test suite."""

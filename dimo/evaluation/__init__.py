"""Judging a cell: train a discrete network and measure it; the cell tables."""

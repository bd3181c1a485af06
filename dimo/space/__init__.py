"""The search space: NAS-Bench-201 cells, their operations, the relaxed supernet, costs, relaxations."""

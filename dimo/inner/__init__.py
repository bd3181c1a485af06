"""The inner loop: K differentiable training steps of a supernet (learned optimizer, teacher loss, unroll, truncation)."""

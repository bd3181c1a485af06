"""Meta-learning: dataset embedding -> decoder -> inner loop, the sharded meta-step, meta-training runs, proposals."""

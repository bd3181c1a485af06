"""Studies that put methods side by side: the optimizer/loss ablation and `dimo compare`."""

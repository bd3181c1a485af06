"""Does a meta-trained embedding tell datasets apart? Codes and proposals over support draws.

    DIMO_DATA_DIR=../shared/data python -m research.proposals.code_spread --workdir runs/x \\
        --datasets digits,mnist,fashion_mnist,cifar10 --shots 5,50 --draws 3

For each shot count: every dataset's code (and decoded architecture weights) from
``--draws`` class-balanced support sets; the largest distance between two draws of one
dataset (within), the distance between each pair of datasets' mean codes (between), and
how many codes lie nearest their own dataset's mean (leave-one-out). Last, the cell each
dataset's code is decoded to, and the cell of the mean code (the embedding ablation without
training anything).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np


def spread(vectors: dict[str, list[np.ndarray]]) -> dict:
    within = {n: float(max(np.linalg.norm(a - b) for a, b in itertools.combinations(v, 2)))
              for n, v in vectors.items()}
    centres = {n: np.mean(v, axis=0) for n, v in vectors.items()}
    between = {f"{a}~{b}": float(np.linalg.norm(centres[a] - centres[b]))
               for a, b in itertools.combinations(vectors, 2)}
    hits = 0
    for name, draws in vectors.items():
        for i, v in enumerate(draws):
            loo = {m: np.mean([x for j, x in enumerate(vectors[m]) if (m, j) != (name, i)], axis=0)
                   for m in vectors}
            hits += min(loo, key=lambda m: np.linalg.norm(v - loo[m])) == name
    return {"within": within, "between": between, "nearest_own_centre": hits,
            "codes": sum(len(v) for v in vectors.values())}


def measure(workdir: str, datasets: list[str], shots: int, draws: int, data_dir=None) -> dict:
    from datasets_meta import load
    from dimo.meta import decoder as decoder_lib
    from dimo.meta import support_sets, trained
    from dimo.meta import system as system_lib

    system = trained.load(workdir)
    codes, arch = {}, {}
    for name in datasets:
        ds = load(name, data_dir, image_size=system.config.data.image_size)
        codes[name], arch[name] = [], []
        for seed in range(draws):
            images, labels = support_sets.reference_support(ds, shots, seed)
            code = system_lib.code(system.system, system.params, images, labels, ds.mean, ds.std,
                                   ds.num_classes)
            codes[name].append(np.asarray(code))
            arch[name].append(np.asarray(decoder_lib.decode(system.params["decoder"], system.system.decoder,
                                                    code).arch_weights))
    from dimo.space import search_space

    cells = {n: str(search_space.discretize(np.mean(a, axis=0))) for n, a in arch.items()}
    mean_code = np.mean([c for v in codes.values() for c in v], axis=0)
    cells["mean code"] = str(search_space.discretize(
        decoder_lib.decode(system.params["decoder"], system.system.decoder, mean_code).arch_weights))
    return {"shots": shots, "code": spread(codes), "arch_weights": spread(arch), "cells": cells}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", required=True)
    p.add_argument("--datasets", default="digits,mnist,fashion_mnist,cifar10")
    p.add_argument("--shots", default="5,50")
    p.add_argument("--draws", type=int, default=3)
    p.add_argument("--data_dir", default=None)
    args = p.parse_args(argv)
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    for shots in (int(s) for s in args.shots.split(",")):
        result = measure(args.workdir, names, shots, args.draws, args.data_dir)
        for what in ("code", "arch_weights"):
            r = result[what]
            print(f"{shots:>3} shots, {what:<12} nearest own centre {r['nearest_own_centre']}/{r['codes']}; "
                  f"within {', '.join(f'{n} {v:.4f}' for n, v in r['within'].items())}; "
                  f"between {', '.join(f'{n} {v:.4f}' for n, v in r['between'].items())}")
        for name, cell in result["cells"].items():
            print(f"{shots:>3} shots, cell of {name}: {cell}")
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)

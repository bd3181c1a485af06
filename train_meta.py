"""Meta-trains DiMO. Not built yet: this entry point is replaced by the meta-training issue."""

import sys


def main() -> int:
    print("train_meta.py: meta-training is not implemented yet (foundation only). "
          "What exists: the NAS-Bench-201 search space (dimo.search_space), the relaxed "
          "supernet (dimo.supernet) and cost counts (dimo.cost); run the tests to check them.",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

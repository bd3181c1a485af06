"""Meta-trains DiMO: python train_meta.py [--datasets a,b] [--config configs/x.py] [--workdir W].

    python train_meta.py                                    # default config, bundled digits
    DIMO_DATA_DIR=../shared/data python train_meta.py --datasets mnist,fashion_mnist,cifar10
    python train_meta.py --config configs/smoke.py --config.meta.steps=10 --workdir runs/try
    python train_meta.py --workdir runs/try --resume        # continue after a stop or crash
"""

import sys
import time
from pathlib import Path

from absl import app, flags, logging
from ml_collections import config_flags

_HERE = Path(__file__).resolve().parent
config_flags.DEFINE_config_file("config", str(_HERE / "configs" / "default.py"), "Config file.")
flags.DEFINE_string("datasets", None, "Comma-separated dataset names (overrides config.datasets).")
flags.DEFINE_string("workdir", None, "Output folder (default runs/<time>).")
flags.DEFINE_string("data_dir", None, "Raw data folder (default $DIMO_DATA_DIR).")
flags.DEFINE_bool("resume", False, "Continue the run in --workdir from its last checkpoint.")
flags.DEFINE_bool("overwrite", False, "Replace the run in a non-empty --workdir.")
flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize() (multi-host).")
flags.DEFINE_bool("progress", True, "Show a progress bar.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import jax

    from datasets_meta import DatasetError
    from dimo import runtime
    from dimo.meta_train import ConfigError, TrainingError, run
    from dimo.workdir import WorkdirError

    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    if FLAGS.distributed:
        jax.distributed.initialize()
    runtime.enable_compilation_cache()
    config = FLAGS.config
    if FLAGS.datasets:
        config.datasets = FLAGS.datasets
    workdir = Path(FLAGS.workdir or _HERE / "runs" / time.strftime("%Y%m%d-%H%M%S"))
    try:
        summary = run(config, workdir, resume=FLAGS.resume, overwrite=FLAGS.overwrite,
                      data_dir=FLAGS.data_dir, progress=FLAGS.progress)
    except (DatasetError, ConfigError, WorkdirError, TrainingError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"workdir: {workdir}")
    for name, entry in summary["datasets"].items():
        print(f"  {name:<14} {entry['genotype']}  lr_scale {entry['lr_scale']:.3g}  "
              f"weight_decay {entry['weight_decay']:.2g}")
    if "meta_loss_first_10pct" in summary:
        print(f"meta-loss: first 10% of steps {summary['meta_loss_first_10pct']:.4f}, "
              f"last 10% {summary['meta_loss_last_10pct']:.4f}")
    print(f"time: {summary['timing']['total_s']:.0f} s (data {summary['timing']['data_load_s']:.0f} s, "
          f"first step incl. compile {summary['timing']['first_step_incl_compile_s'] or 0:.0f} s)")
    return 0


if __name__ == "__main__":
    app.run(lambda argv: sys.exit(main(argv)))

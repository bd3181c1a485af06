"""Meta-trains DiMO: python train_meta.py [--datasets a,b] [--config configs/x.py] [--workdir W].

    python train_meta.py                                    # default config, bundled digits
    DIMO_DATA_DIR=../shared/data python train_meta.py --datasets mnist,fashion_mnist,cifar10
    python train_meta.py --config configs/smoke.py --config.meta.steps=10 --workdir runs/try
    python train_meta.py --workdir runs/try --resume        # continue after a stop or crash
"""

import os
import re
import sys
import time
from pathlib import Path

from absl import app, flags, logging
from ml_collections import config_flags

_HERE = Path(__file__).resolve().parent
flags.DEFINE_string("datasets", None, "Comma-separated dataset names (overrides config.datasets).")
flags.DEFINE_string("workdir", None, "Output folder (default runs/<time>).")
flags.DEFINE_string("data_dir", None, "Raw data folder (default $DIMO_DATA_DIR).")
flags.DEFINE_bool("resume", False, "Continue the run in --workdir from its last checkpoint.")
flags.DEFINE_bool("overwrite", False, "Replace the run in a non-empty --workdir.")
flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize() (multi-host).")
flags.DEFINE_bool("progress", True, "Show a progress bar.")
FLAGS = flags.FLAGS


def _flag_error(error: Exception, argv) -> str:
    """absl's and ml_collections' flag errors, as one line that names the fix."""
    text = str(error)
    if isinstance(error, flags.UnrecognizedFlagError):
        return f"unknown flag --{error.flagname}; see python train_meta.py --helpfull"
    if isinstance(error, OSError):
        return (f"--config: cannot load the config file ({text.strip().splitlines()[-1].strip()}); "
                f"pass a file such as configs/default.py")
    if isinstance(error, (AttributeError, KeyError)):  # an override of a key the config does not have
        key = re.search(r"'(\w+)\\?'", text)  # the message is a repr: \'stpes\'\nDid you mean
        hint = re.search(r'Did you mean "(\w+)"', text)
        flag = next((a.split("=")[0] for a in argv if key and a.startswith("--config.")
                     and a.split("=")[0].endswith("." + key.group(1))), "--config.?")
        from dimo.meta.config import SWITCHES_OFF  # only on this error path: it imports JAX

        if flag.removeprefix("--config.") in SWITCHES_OFF:
            return (f"{flag}: an experiment switch, off in every shipped config (dimo.meta.config.SWITCHES_OFF); "
                    "set it in a config file of your own (e.g. research/proposals/configs/colour_tasks.py) "
                    "and pass that file as --config")
        return (f"{flag}: the config has no key {key.group(1) if key else '?'!r}"
                + (f" (did you mean {hint.group(1)!r}?)" if hint else "")
                + "; see the keys in configs/default.py")
    text = " ".join(text.split())
    return f"{text}; give a value of the key's type (see configs/default.py) or run --helpfull"


def parse_flags(argv):
    """absl flag parsing that ends bad flags with one ``error:`` line and exit status 2."""
    try:
        rest = FLAGS(argv)
        FLAGS.config.keys()  # the config file loads lazily: fail here, not in the middle of main
        return rest
    except (flags.Error, OSError, AttributeError, KeyError, TypeError, ValueError) as e:
        print(f"error: {_flag_error(e, argv)}", file=sys.stderr)
        sys.exit(2)


def main(argv):
    del argv
    import jax

    from datasets_meta import DatasetError
    from dimo.infra import runtime
    from dimo.meta.meta_train import ConfigError, TrainingError, run
    from dimo.infra.guards import DiskFull, quiet_disk_full_echoes
    from dimo.infra.workdir import WorkdirError

    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint at INFO
    quiet_disk_full_echoes()
    if FLAGS.distributed:
        jax.distributed.initialize()
    config = FLAGS.config
    if FLAGS.datasets:
        config.datasets = FLAGS.datasets
    workdir = Path(FLAGS.workdir or _HERE / "runs" / time.strftime("%Y%m%d-%H%M%S"))
    try:
        runtime.enable_compilation_cache()
        summary = run(config, workdir, resume=FLAGS.resume, overwrite=FLAGS.overwrite,
                      data_dir=FLAGS.data_dir, progress=FLAGS.progress)
    except DiskFull as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        # Everything kept is on disk (metrics are fsynced per step, the failed save's partial
        # folder is gone). A normal exit would run orbax's shutdown handlers, which meet the
        # failed save's closed event loop and print tracebacks under the one line (seen once
        # in five suite runs of tests/reliability/test_disk_full.py): leave without them.
        sys.stdout.flush()
        os._exit(2)
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
    t = summary["timing"]
    print(f"time: {t['total_s']:.0f} s (data {t['data_load_s']:.1f} s, compile {t.get('compile_s', 0):.1f} s, "
          f"{t['steps_run']} meta-steps {t['steps_s']:.0f} s, median {t['median_step_s'] or 0:.2f} s/step)")
    return 0


if __name__ == "__main__":
    try:  # --config.x overrides are typed against the config when the flag is defined
        config_flags.DEFINE_config_file("config", str(_HERE / "configs" / "default.py"), "Config file.")
    except (OSError, AttributeError, KeyError, TypeError, ValueError) as e:
        print(f"error: {_flag_error(e, sys.argv)}", file=sys.stderr)
        sys.exit(2)
    app.run(lambda argv: sys.exit(main(argv)), flags_parser=parse_flags)

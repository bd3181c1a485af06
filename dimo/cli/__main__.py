"""``python -m dimo.cli``: the ``dimo`` command."""

import sys

from dimo.cli.main import main

sys.exit(main())

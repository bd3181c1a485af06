"""How every research script ends: ``script.run(main)`` exits with ``main()``'s code, and quietly
when its reader stops reading (``python -m research.looks | head``), as the ``dimo`` command does."""

from __future__ import annotations

import os
import sys


def run(main) -> None:
    try:
        code = main()
        sys.stdout.flush()  # a closed pipe surfaces here when the last print was buffered
    except BrokenPipeError:  # the reader has what it wanted; stdout to /dev/null so exit's flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)

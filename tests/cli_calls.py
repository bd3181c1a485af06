"""Calling the ``dimo`` console script's main in-process, as the CLI tests do."""

import json

from dimo.cli import main as cli


def run_json_and_err(capsys, argv):
    assert cli.main(argv + ["--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out.strip().splitlines()[-1]), captured.err


def run_json(capsys, argv):
    return run_json_and_err(capsys, argv)[0]


def run_error(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err

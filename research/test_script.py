"""research.script.run: a script's exit code, and no traceback when its reader closes the pipe."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _script(body: str, reader: str | None = None) -> subprocess.CompletedProcess:
    code = f"from research import script\ndef main():\n    {body}\nscript.run(main)\n"
    writer = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if reader == "first line":  # `| head -1`: read one line, then close
        writer.stdout.readline()
        writer.stdout.close()
        _, err = writer.communicate()
        return subprocess.CompletedProcess(writer.args, writer.returncode, "", err.decode())
    out, err = writer.communicate()
    return subprocess.CompletedProcess(writer.args, writer.returncode, out.decode(), err.decode())


def test_the_exit_code_is_mains():
    done = _script("print('table'); return 3")
    assert (done.returncode, done.stdout) == (3, "table\n")


def test_a_closed_pipe_ends_the_script_quietly():
    done = _script("[print(f'row {i}', flush=True) for i in range(200_000)]; return 0", reader="first line")
    assert done.returncode == 0 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr

"""The command line's last line of defence: a bug of ours has its own exit code and keeps its traceback."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from watchdog import cli
from watchdog.commands import validate
from watchdog.errors import ExitCode


def test_an_internal_error_exits_4_never_3_and_keeps_its_traceback(monkeypatch, capsys, tmp_path):
    def broken(args: object) -> int:
        raise KeyError("oops")

    monkeypatch.setattr(validate, "handle", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("WATCHDOG_DEBUG", raising=False)
    code = cli.main(["validate", "-c", "whatever.yaml"])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL == 4
    assert "Traceback" not in err  # one line on the terminal...
    kept = Path(re.search(r"traceback in (\S+)", err).group(1))
    assert kept.parent == tmp_path and 'raise KeyError("oops")' in kept.read_text()  # ...the whole traceback in a file


def test_the_console_script_exits_with_mains_code_and_tunes_the_collector_first(tmp_path):
    import subprocess
    import sys

    probe = ("import gc, sys; from watchdog import cli; "
             "cli.main = lambda: print(gc.get_threshold()[0]) or 3; "
             "cli.entry()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (3, f"{cli.YOUNG_COLLECTION}\n", "")
    watch = subprocess.run([sys.executable, "-m", "watchdog", "validate", "-c", str(tmp_path / "missing.yaml")],
                           capture_output=True, text=True)
    assert watch.returncode == ExitCode.USAGE and "no such rule file" in watch.stderr

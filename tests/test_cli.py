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

"""The state file on real SQLite: one owner at a time, a clear error for a file it cannot use."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from watchdog.statefile import StateError, StateFile


def test_one_process_at_a_time_and_free_again_once_closed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = StateFile(path)
    with pytest.raises(StateError, match=rf"in use by another watchdog \(pid {os.getpid()} on .+\)"):
        StateFile(path)
    first.close()
    StateFile(path).close()


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"not a database\n" * 500)
    with pytest.raises(StateError, match=f"cannot use state file {path}: file is not a database"):
        StateFile(path)

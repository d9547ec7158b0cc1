import pytest

from watchdog import __version__
from watchdog.cli import main


def test_version_flag_prints_the_version_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"watchdog {__version__}\n"

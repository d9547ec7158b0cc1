from watchdog.cli import main


def test_version_flag_exits_zero(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "watchdog" in capsys.readouterr().out

import pytest

from watchdog.probing.dsn import DsnError, dialect_of, redact, scrub, secrets_of, sqlite_path


def test_redact_hides_passwords_in_urls_and_keywords():
    assert redact("postgresql://app:s3cr3t@db:5432/prod") == "postgresql://app:***@db:5432/prod"
    assert redact("host=db password=s3cr3t user=app") == "host=db password=*** user=app"
    assert redact("sqlite:///x.db") == "sqlite:///x.db"


def test_secrets_and_scrub():
    secrets = secrets_of("postgresql://app:s3cr3t@db/prod")
    assert scrub("failed for app:s3cr3t@db", secrets) == "failed for app:***@db"


def test_dialects_and_sqlite_paths():
    assert dialect_of("postgres://h/db").name == "postgresql"
    assert sqlite_path("sqlite:///rel/x.db") == "rel/x.db"
    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    with pytest.raises(DsnError, match="unsupported DSN 'mysql://u:\\*\\*\\*@h/db'"):
        dialect_of("mysql://u:pw@h/db")

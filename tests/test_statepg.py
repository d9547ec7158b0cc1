"""`--state postgresql://...` on the real server: a schema of watchdog's own, one leader at a time."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from artifacts.servers import eventually
from watchdog import Watchdog
from watchdog.notify.outbox import Outbox
from watchdog.runtime.state import StateStore
from watchdog.statefile import StateError, open_state
from watchdog.statepg import LOCK_CLASS, PgState


@pytest.fixture
def state_url(postgres_server: str) -> Iterator[str]:
    """A --state URL naming a schema that does not exist yet (watchdog creates it); dropped after."""
    schema = f"wd_state_{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_watchdog_creates_its_schema_and_tables(state_url: str, postgres_server: str) -> None:
    db = open_state(state_url)
    assert isinstance(db, PgState)
    StateStore(db)
    Outbox(db)
    with psycopg.connect(postgres_server) as conn:
        tables = {row[0] for row in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                                                 (db.schema_name,))}
    assert tables == {"alert_state", "notify_outbox", "state_owner"}
    db.close()


@pytest.mark.postgres
def test_one_replica_leads_and_the_other_takes_over_when_its_session_ends(state_url: str) -> None:
    first, second = open_state(state_url), open_state(state_url)
    assert first.lead() and first.lead()  # held, and still held
    assert not second.lead()
    first.close()  # as a kill -9 or a dropped connection would: the session ends, the lock with it
    eventually(second.lead, "the second to take the lead once the server has ended the first's session", timeout=5, every=0.05)
    second.close()


@pytest.mark.postgres
def test_an_unreachable_state_database_is_a_clear_error_without_its_password() -> None:
    with pytest.raises(StateError, match=r"cannot use state postgresql://watchdog:\*\*\*@127\.0\.0\.1:1/x") as raised:
        open_state("postgresql://watchdog:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(raised.value)


@pytest.mark.postgres
def test_a_leader_whose_connection_drops_never_writes_again(state_url: str, postgres_server: str) -> None:
    first, second = open_state(state_url), open_state(state_url)
    store = StateStore(first)
    assert first.lead()
    with psycopg.connect(postgres_server, autocommit=True) as admin:  # the server ends the leader's session
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                      (LOCK_CLASS,))
    eventually(second.lead, "the standby to lead", timeout=5, every=0.05)
    assert not first.lead()
    with pytest.raises(psycopg.Error, match="the lead with it"):
        with first.transaction() as conn:
            store.write(conn)


@pytest.mark.postgres
def test_the_state_urls_password_is_a_secret_of_the_watchdog(state_url: str, tmp_path: Path) -> None:
    url = state_url.replace("postgresql://postgres@", "postgresql://postgres:n0t-pr1nted@")  # trust auth ignores it
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ntargets:\n  main: {dsn: \"sqlite:///%s\"}\nrules:\n  - {name: x, check: sql, query: SELECT 1}\n"
                     % (tmp_path / "db.sqlite"))
    watchdog = Watchdog.from_file(rules, state=url, notifiers={})
    try:
        assert "n0t-pr1nted" in watchdog.secrets
    finally:
        watchdog.close()

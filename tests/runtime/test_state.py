"""Alert state survives a restart: no second page for a firing alert, and a resolve after it is sent."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from freezegun import freeze_time
from runtime_helpers import result, rule

from watchdog.evaluation.execute import utc_now
from watchdog.runtime.acks import Ack
from watchdog.runtime.alerts import AlertBook
from watchdog.runtime.alerts import Changes
from watchdog.runtime.state import StateError, StateStore
from watchdog.statefile import StateDatabase, StateFile, open_state

T0 = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)
NOTIFIERS = {"webhook": None}


def save(store: StateStore, db: StateFile, changes: Changes) -> None:
    store.stage(changes.saved, changes.deleted)
    with db.transaction() as conn:
        store.write(conn)
    store.written()


def test_a_restart_neither_pages_again_nor_forgets_a_firing_alert(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with freeze_time(T0) as clock:
        db = StateFile(path)
        store = StateStore(db)
        book = AlertBook([rule()], NOTIFIERS)
        save(store, db, book.observe(result("violated", violations=3)))
        db.close()

        clock.tick(300)
        db = StateFile(path)
        store = StateStore(db)
        [loaded] = store.load()
        assert (loaded.state, loaded.since, loaded.evidence.violations, loaded.sent) == ("firing", T0, 3, {"webhook": T0})
        assert loaded.evidence.samples == ({"id": 7, "age_seconds": 3600},)
        restarted = AlertBook([rule()], NOTIFIERS, store.load(), now=T0 + timedelta(seconds=300))
        assert restarted.observe(result("violated")).outgoing == []
        resolved = restarted.observe(result("ok"))
        assert [(o.status, o.alert.since) for o in resolved.outgoing] == [("resolved", T0)]
        save(store, db, resolved)
        assert store.load() == []


def test_pending_alerts_keep_counting_for_across_a_restart(tmp_path: Path) -> None:
    with freeze_time(T0) as clock:
        db = StateFile(tmp_path / "state.db")
        store = StateStore(db)
        save(store, db, AlertBook([rule(for_seconds=600)], NOTIFIERS).observe(result("violated")))
        clock.tick(600)
        restarted = AlertBook([rule(for_seconds=600)], NOTIFIERS, store.load(), now=T0 + timedelta(seconds=600))
        assert [o.status for o in restarted.observe(result("violated")).outgoing] == ["firing"]


def test_an_unusable_state_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "state.db"
    with pytest.raises(StateError, match=f"cannot use state file {missing}: No such file or directory"):
        StateFile(missing)


def _old_state(db: StateDatabase) -> None:
    """The alert_state table as a watchdog before acknowledgements made it, without `ack`."""
    with db.transaction() as conn:
        conn.execute("CREATE TABLE alert_state (fingerprint TEXT PRIMARY KEY, alertname TEXT NOT NULL, rule TEXT NOT NULL, "
                     "target TEXT NOT NULL, state TEXT NOT NULL, since TEXT NOT NULL, evidence TEXT, error TEXT, "
                     "sent TEXT NOT NULL)")


def _ack_survives_a_restart(reopen: Callable[[], StateDatabase]) -> None:
    with freeze_time(T0) as clock:
        db = reopen()
        _old_state(db)
        store = StateStore(db)  # adds the ack column to the old table
        book = AlertBook([rule(repeat_interval=3600)], NOTIFIERS)
        save(store, db, book.observe(result("violated")))
        ack = Ack("ana", "draining the queue", T0, T0 + timedelta(hours=4))
        save(store, db, book.acknowledge("jobs_stuck", "main", ack))
        db.close()
        clock.tick(3600)
        db = reopen()
        [loaded] = StateStore(db).load()
        assert loaded.ack == ack
        restarted = AlertBook([rule(repeat_interval=3600)], NOTIFIERS, [loaded], now=utc_now())
        clock.tick(3600)  # hourly repeats are due, but the ack holds them back
        assert restarted.repeats(utc_now()).outgoing == []
        clock.tick(2 * 3600)  # 4h: the ack expired, repeats resume without it
        assert [o.alert.ack for o in restarted.repeats(utc_now()).outgoing] == [None]
        db.close()


def test_an_ack_is_kept_in_the_state_file_across_a_restart(tmp_path: Path) -> None:
    _ack_survives_a_restart(lambda: StateFile(tmp_path / "state.db"))


@pytest.mark.postgres
def test_an_ack_is_kept_in_the_shared_postgresql_state_across_a_restart(postgres_server: str) -> None:
    schema = f"wd_state_{uuid.uuid4().hex[:10]}"
    url = f"{postgres_server}{'&' if '?' in postgres_server else '?'}schema={schema}"
    try:
        _ack_survives_a_restart(lambda: open_state(url))
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

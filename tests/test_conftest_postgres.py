from pathlib import Path

import psycopg
import pytest


@pytest.mark.postgres
def test_postgres_dsn_is_an_isolated_empty_schema(postgres_dsn):
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE TABLE t (x int)")
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        assert schema.startswith("wd_test_")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_throwaway_cluster_starts_serves_and_is_removed():
    """The fallback when no server answers: initdb/pg_ctl, as the 'postgres' user when run as root."""
    import shutil

    from tests.conftest import _throwaway_cluster

    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("initdb/pg_ctl not on PATH")
    started = _throwaway_cluster()
    assert started is not None, "initdb/pg_ctl are on PATH but no cluster could be started"
    dsn, stop = started
    with psycopg.connect(dsn) as conn:
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
    stop()
    assert not data.exists()

import psycopg
import pytest


@pytest.mark.postgres
def test_postgres_dsn_is_an_isolated_empty_schema(postgres_dsn):
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE TABLE t (x int)")
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        assert schema.startswith("wd_test_")
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0

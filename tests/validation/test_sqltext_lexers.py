"""The one-statement check against the databases' own lexers, on generated text.

SQLite's lexer is `sqlite3.complete_statement` (sqlite3_complete) and DuckDB's is
`duckdb.tokenize`: both the real thing. PostgreSQL and MySQL expose none without a server, so
sqlglot's tokenizers stand in for them (what the check used before it had its own scanner).
"""
from __future__ import annotations

import sqlite3

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from watchdog.validation.sqltext import SQLITE, NotOneSelect, Unclosed, one_select, read

# What opens, closes or escapes a quote or a comment in any of the four, and what a statement starts with.
FRAGMENTS = ["'", '"', "`", "[", "]", "$$", "$a$", "$1", "--", "-- ", "#", "/*", "*/", "/*!", ";", "\\", "E'",
             "e", "select", "with", "values", "(", ")", " ", "\n", "\r", "1", "x", "a$b", "''", "-", "*", "/",
             "é", ",", "U&'", "N'", "'a'"]
texts = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10).map("".join)


def sqlite_says(text: str) -> str:
    """sqlite3_complete: true when the text ends in a `;` that ends a statement."""
    if any(sqlite3.complete_statement(text[:p + 1]) for p, ch in enumerate(text) if ch == ";"):
        return "a statement ends"
    return "one" if sqlite3.complete_statement(text + "\n;") else "not closed"


def we_say(text: str) -> str:
    try:
        return "a statement ends" if read(text, SQLITE).semicolon else "one"
    except Unclosed:
        return "not closed"


@settings(max_examples=600, derandomize=True, deadline=None)
@given(texts)
def test_sqlite_is_read_as_sqlite_reads_it(text):
    assert we_say(text) == sqlite_says(text)


def splitters(body: str) -> list[str]:
    """The lexers that see a `;` ending a statement in `body`."""
    seen = []
    if any(sqlite3.complete_statement(body[:p + 1]) for p, ch in enumerate(body) if ch == ";"):
        seen.append("sqlite")
    raw = body.encode()  # duckdb.tokenize gives byte offsets
    if any(raw[p:p + 1] == b";" and kind == duckdb.token_type.operator for p, kind in duckdb.tokenize(body)):
        seen.append("duckdb")
    # sqlglot's PostgreSQL tokenizer reads `#-` (jsonb's operator) across a `--`, where PostgreSQL
    # ends an operator at `--` and reads a comment: it stands in for PostgreSQL only without `#`.
    for dialect in ("mysql",) if "#" in body else ("mysql", "postgres"):
        try:
            tokens = Dialect.get_or_raise(dialect).tokenize(body)
        except TokenError:
            continue
        if any(token.token_type == TokenType.SEMICOLON for token in tokens):
            seen.append(f"sqlglot {dialect}")
    return seen


@settings(max_examples=600, derandomize=True, deadline=None)
@given(texts)
def test_nothing_a_database_would_split_is_taken(text):
    query = f"select {text}"
    body = query.strip().rstrip(";").strip()
    if splitters(body):
        with pytest.raises(NotOneSelect):
            one_select(query)


@pytest.mark.parametrize("query", [
    "select 1 /*! ; delete from t */",  # MySQL runs what stands in /*! ... */
    "select 1 /*M! ; delete from t */",  # and MariaDB what stands in /*M! ... */
    "select `a` ; delete from t",
    "select 1 # ; \n; delete from t",
    "select \"a\\\"; delete from t; --\"",  # MySQL's double-quoted string takes a backslash escape
    "select 1 -- ; \n; delete from t",
    "select 1e$$; delete from t; $$",  # 1e is a number to PostgreSQL; $$ opens a dollar quote after it
    "select 1;'",  # a statement ended before the quote that never closes: a database would run it
])
def test_these_are_refused(query):
    with pytest.raises(NotOneSelect) as caught:
        one_select(query)
    assert str(caught.value) == "the query must be a single statement (found ';')"


@pytest.mark.parametrize("query", [
    "select 2--1",  # MySQL: `--` before no blank is two minuses; the others: a comment. Neither has a `;`
    "select a$b$c from t",  # `$` inside a name opens no dollar quote
    "select $1::int",
    "select 'a''b;' , \"c\"\"d;\" , E'\\'' from t",
])
def test_these_are_taken(query):
    assert one_select(query) == query.strip()


def test_loading_a_sql_rule_imports_no_sql_library():
    """The point of the scanner: a load (every `check`) no longer pays sqlglot's import."""
    import subprocess
    import sys
    from pathlib import Path

    rules = Path(__file__).resolve().parents[2] / "rules.yaml"
    code = ("import sys; from watchdog.plan import build_plan; from pathlib import Path; "
            f"build_plan(Path({str(rules)!r})); print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlglot', 'pglast')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "check: sql" in rules.read_text()  # the file does hold a sql rule

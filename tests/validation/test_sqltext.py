"""The one-statement check reads SQL as PostgreSQL and SQLite do, quotes and comments included."""
from __future__ import annotations

import pytest

from watchdog.validation.sqltext import NotOneSelect, one_select

SINGLE = "the query must be a single statement (found ';')"


@pytest.mark.parametrize("query", [
    "select 1 /* ' */; insert into t values (1) -- '",
    "select $q$'$q$; insert into t values (1); select $q$'$q$",
    "select $q$ $q$; insert into t values (1); select $q$ $q$",
    "select 1 /* a /* b */ */ ; insert into t values (1)",
    "select E'\\''; insert into t values (1) --'",
    "select '\\'; insert into t values (1); --'",
    "select 1 --x\r; insert into t values (1)",
    "select $q$ /* $q$; insert into t values (1); select $q$ */ $q$",
    "select [a;b] from t",
    "select $$;$$",
    "select 1; ;",
])
def test_a_semicolon_either_database_would_end_a_statement_on_is_refused(query):
    with pytest.raises(NotOneSelect) as caught:
        one_select(query)
    assert str(caught.value) == SINGLE


@pytest.mark.parametrize("query, body", [
    ("select 1;", "select 1"),
    ("  with x as (select 1) select * from x ;; ", "with x as (select 1) select * from x"),
    ("select ';' as a, \"b;\" from t -- ;\n", "select ';' as a, \"b;\" from t --"),
    ("/* lead */ select 1", "/* lead */ select 1"),
    ("(select 1) union (select 2)", "(select 1) union (select 2)"),
    ("values (1)", "values (1)"),
    ("select $q$ it's $q$", "select $q$ it's $q$"),
    ("select E'it\\'s'", "select E'it\\'s'"),
])
def test_one_select_is_taken(query, body):
    assert one_select(query) == body


@pytest.mark.parametrize("query, message", [
    ("delete from t", "the query must be a SELECT (or WITH ... SELECT)"),
    ("/* select */ update t set x = 1", "the query must be a SELECT (or WITH ... SELECT)"),
    ("", "the query is empty"),
    ("-- nothing", "the query is empty"),
    ("select 'unterminated", "the query cannot be read as SQL: a string, quoted name or comment is not closed"),
    ("select 1 /* open", "the query cannot be read as SQL: a string, quoted name or comment is not closed"),
])
def test_other_statements_and_unreadable_text_are_refused(query, message):
    with pytest.raises(NotOneSelect) as caught:
        one_select(query)
    assert str(caught.value) == message


@pytest.mark.parametrize("query", [
    "select 1 /* /* */ ; delete from t; /* */",  # MySQL has no nested comments
    "select 'a\\''; delete from t; -- '",  # MySQL reads \' inside a string as a quote
])
def test_a_semicolon_only_mysql_would_see_is_refused(query):
    with pytest.raises(NotOneSelect) as caught:
        one_select(query)
    assert str(caught.value) == SINGLE

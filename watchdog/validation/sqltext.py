"""Is a user's query one read-only statement? Read by real SQL tokenizers, not a regular expression.

sqlglot's tokenizers know each dialect's strings and comments: PostgreSQL's dollar quotes, nested
block comments and E'' escapes, SQLite's brackets, MySQL's backslash escapes and `#` comments. The
rule file does not say here which database a query is for, so it is read as each database watchdog
probes, and a `;` that any of them would take as the end of a statement refuses it. The databases
keep the last word: a PostgreSQL probe is sent through the extended protocol, and sqlite3, PyMySQL
(without multi-statements) and DuckDB's execute run one statement, so all refuse a second.
"""
from __future__ import annotations

DIALECTS = ("postgres", "sqlite", "mysql", "duckdb")


class NotOneSelect(ValueError):
    """The text is not one SELECT (or WITH ... SELECT, VALUES) statement; the message says why."""


def one_select(text: str) -> str:
    """`text` less surrounding blanks and trailing `;`, or NotOneSelect."""
    # Imported here: sqlglot takes a tenth of a second to import, paid only by files with `sql` rules.
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    body = text.strip().rstrip(";").strip()
    read = []
    for dialect in DIALECTS:
        try:
            read.append(Dialect.get_or_raise(dialect).tokenize(body))
        except TokenError:  # not SQL of this dialect: the other may read it, the database decides
            continue
    if not read:
        raise NotOneSelect("the query cannot be read as SQL: a string, quoted name or comment is not closed")
    for tokens in read:
        if not tokens:
            raise NotOneSelect("the query is empty")
        if any(token.token_type == TokenType.SEMICOLON for token in tokens):
            raise NotOneSelect("the query must be a single statement (found ';')")
        if tokens[0].token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.L_PAREN):
            raise NotOneSelect("the query must be a SELECT (or WITH ... SELECT)")
    return body

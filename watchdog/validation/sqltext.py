"""Is a user's query one read-only statement? Read as each database watchdog probes would lex it.

The check needs one thing from a lexer: where the code is, outside strings, quoted names and
comments, so that a `;` there and the first word can be seen. Each database delimits those its
own way (PostgreSQL's dollar quotes, nested block comments and E'' escapes; SQLite's brackets;
MySQL's backslash escapes, `#` and `-- ` comments, and the `/*! */` it runs), written below as
one `Lexicon` each and read by one scanner. This used to be sqlglot's tokenizers: importing them
cost `watchdog check` a fifth of its run (0.13-0.19 s) for this one question.
tests/validation/test_sqltext_lexers.py holds the scanner to SQLite's and DuckDB's own lexers, and
to sqlglot's PostgreSQL and MySQL tokenizers, on generated text.

The rule file does not say here which database a query is for, so it is read as each of them,
and a `;` that any of them would take as the end of a statement refuses it. The databases keep
the last word: a PostgreSQL probe is sent through the extended protocol, and sqlite3, PyMySQL
(without multi-statements) and DuckDB's execute run one statement, so all refuse a second.
"""
from __future__ import annotations

from dataclasses import dataclass


class NotOneSelect(ValueError):
    """The text is not one SELECT (or WITH ... SELECT, VALUES) statement; the message says why."""


class Unclosed(Exception):
    """A string, quoted name or comment runs to the end of the text: not SQL of this lexicon."""


@dataclass(frozen=True)
class Quote:
    """A quoted string or name: its closing character, and how one stands inside it."""

    close: str
    doubled: bool = True  # '' inside '...' is one quote
    backslash: bool = False  # \x inside is x, whatever x is


@dataclass(frozen=True)
class Lexicon:
    """What one database's lexer takes for not-code: quotes, comments, dollar quotes."""

    name: str
    quotes: dict[str, Quote]
    line_comment_ends: str = "\n"  # the characters that end a `--` comment
    hash_comments: bool = False  # MySQL: `#` to the end of the line
    dash_needs_space: bool = False  # MySQL: `--` starts a comment only before a blank or a control character
    nested_comments: bool = False  # PostgreSQL: /* /* */ */ is one comment
    executable_comments: bool = False  # MySQL: /*! ... */ is code (MariaDB: /*M! ... */ too)
    dollar_quotes: bool = False  # PostgreSQL: $$...$$ and $tag$...$tag$
    escape_strings: bool = False  # PostgreSQL: E'...' takes backslash escapes


_PLAIN = Quote("'")
_ESCAPED = Quote("'", backslash=True)  # PostgreSQL's E'...', MySQL's '...'
POSTGRES = Lexicon("postgres", {"'": _PLAIN, '"': Quote('"')}, line_comment_ends="\n\r",
                   nested_comments=True, dollar_quotes=True, escape_strings=True)
SQLITE = Lexicon("sqlite", {"'": _PLAIN, '"': Quote('"'), "`": Quote("`"), "[": Quote("]", doubled=False)})
MYSQL = Lexicon("mysql", {"'": _ESCAPED, '"': Quote('"', backslash=True), "`": Quote("`")},
                hash_comments=True, dash_needs_space=True, executable_comments=True)
#: DuckDB's parser descends from PostgreSQL's (libpg_query): read as PostgreSQL reads it, a query
#: shows every `;` DuckDB would see (DuckDB also quotes names in backticks, which hides more).
LEXICONS = (POSTGRES, SQLITE, MYSQL)

_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD = _WORD_START | frozenset("0123456789$")
_STARTS = ("select", "with", "values", "(")


def _is_word_start(ch: str) -> bool:
    return ch in _WORD_START or ch >= "\x80"


def _is_word(ch: str) -> bool:
    return ch in _WORD or ch >= "\x80"


@dataclass
class Reading:
    """What one lexicon saw of the code: its first token (a word in lower case, or a character;
    None when there is no code) and whether a `;` ends a statement in it. Filled in as the
    scanner goes, so what it saw before a quote that never closes is kept."""

    first: str | None = None
    semicolon: bool = False


def _quoted(text: str, i: int, quote: Quote) -> int:
    """The index after the quote that closes the one opened just before `i`."""
    n = len(text)
    while i < n:
        ch = text[i]
        if quote.backslash and ch == "\\":
            i += 2
            continue
        if ch == quote.close:
            if quote.doubled and i + 1 < n and text[i + 1] == quote.close:
                i += 2
                continue
            return i + 1
        i += 1
    raise Unclosed


def _block_comment(text: str, i: int, nested: bool) -> int:
    """The index after the `*/` that closes the comment whose `/*` ends just before `i`."""
    depth, n = 1, len(text)
    while i < n:
        if text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif nested and text.startswith("/*", i):
            depth += 1
            i += 2
        else:
            i += 1
    raise Unclosed


def _dollar_tag(text: str, i: int) -> str | None:
    """The dollar quote's opening tag (`$$` or `$tag$`) at `i`, or None (`$1` is a parameter)."""
    j = i + 1
    if j < len(text) and _is_word_start(text[j]):
        j += 1
        while j < len(text) and _is_word(text[j]) and text[j] != "$":
            j += 1
    return text[i:j + 1] if j < len(text) and text[j] == "$" else None


def read(text: str, lexicon: Lexicon) -> Reading:
    """`text` read by `lexicon`: its first token and whether a `;` stands in its code; Unclosed
    when a string, quoted name or comment is never closed and no `;` came before it (a database
    that reads statement by statement would have run the one before)."""
    seen = Reading()
    try:
        _scan(text, lexicon, seen)
    except Unclosed:
        if not seen.semicolon:
            raise
    return seen


def _scan(text: str, lexicon: Lexicon, seen: Reading) -> None:
    """Fill `seen` token by token; Unclosed at a string, quoted name or comment never closed."""
    executable = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        token: str | None = None
        if ch.isspace():
            i += 1
        elif ch == "-" and text.startswith("--", i) and not (
                lexicon.dash_needs_space and i + 2 < n and not (text[i + 2].isspace() or text[i + 2] < " ")):
            while i < n and text[i] not in lexicon.line_comment_ends:
                i += 1
        elif ch == "#" and lexicon.hash_comments:
            while i < n and text[i] != "\n":
                i += 1
        elif ch == "/" and text.startswith("/*", i):
            opener = 3 if text.startswith("/*!", i) else 4 if text.startswith("/*M!", i) else 0
            if lexicon.executable_comments and opener:
                if text.find("*/", i + opener) < 0:
                    raise Unclosed
                i, executable = i + opener, True  # the comment's text is code, up to its `*/`
            else:
                i = _block_comment(text, i + 2, lexicon.nested_comments)
        elif executable and ch == "*" and text.startswith("*/", i):
            i, executable = i + 2, False
        elif ch in lexicon.quotes:
            i, token = _quoted(text, i + 1, lexicon.quotes[ch]), ch
        elif ch == "$" and lexicon.dollar_quotes and (tag := _dollar_tag(text, i)) is not None:
            end = text.find(tag, i + len(tag))
            if end < 0:
                raise Unclosed
            i, token = end + len(tag), "$"
        elif ch.isdigit():  # a number, with what sticks to it (1e, 0x1f): never the start of a quote
            start = i
            while i < n and (text[i].isalnum() or text[i] in "._"):
                i += 1
            token = text[start:i]
        elif _is_word_start(ch):
            start = i
            while i < n and _is_word(text[i]):
                i += 1
            token = text[start:i].lower()
            if lexicon.escape_strings and token == "e" and i < n and text[i] == "'":
                i = _quoted(text, i + 1, _ESCAPED)
        else:
            seen.semicolon = seen.semicolon or ch == ";"
            i, token = i + 1, ch
        if seen.first is None:
            seen.first = token


def one_select(text: str) -> str:
    """`text` less surrounding blanks and trailing `;`, or NotOneSelect."""
    body = text.strip().rstrip(";").strip()
    readings = []
    for lexicon in LEXICONS:
        try:
            readings.append(read(body, lexicon))
        except Unclosed:  # not SQL as this database reads it: another may read it, the database decides
            continue
    if not readings:
        raise NotOneSelect("the query cannot be read as SQL: a string, quoted name or comment is not closed")
    for reading in readings:
        if reading.first is None:
            raise NotOneSelect("the query is empty")
        if reading.semicolon:
            raise NotOneSelect("the query must be a single statement (found ';')")
        if reading.first not in _STARTS:
            raise NotOneSelect("the query must be a SELECT (or WITH ... SELECT)")
    return body

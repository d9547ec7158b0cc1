"""Rule -> Probe. Row-shaped kinds are wrapped so one round trip returns the count and the samples."""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2

from watchdog.catalogue.kind import CheckKind
from watchdog.compiler.context import SENTINEL, SqlContext, TemplateFailure
from watchdog.dialects import Dialect
from watchdog.compiler.probe import Probe
from watchdog.config.model import Rule

_PLACEHOLDER = re.compile(f"{SENTINEL}(p\\d+){SENTINEL}")


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"], keep_trailing_newline=False)


@lru_cache(maxsize=256)
def _template(source: str) -> jinja2.Template:
    return _environment().from_string(source)


def render(ctx: SqlContext) -> str:
    """The kind's template rendered for ctx's rule (still with placeholder sentinels)."""
    kind = ctx.kind
    try:
        return _template(kind.template).render(ctx.variables()).strip().rstrip(";")
    except jinja2.UndefinedError as exc:
        raise TemplateFailure(f"template {kind.template_path.name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailure(f"template {kind.template_path.name}:{exc.lineno}: {exc.message}") from None


def finish(dialect: Dialect, body: str) -> str:
    """Sentinels to the dialect's placeholders, after escaping literal % for psycopg."""
    return _PLACEHOLDER.sub(lambda m: dialect.placeholder(m.group(1)), dialect.escape_text(body))


def compile_rule(rule: Rule, kind: CheckKind, dialect: Dialect) -> Probe:
    """The probe for `rule`; raises TemplateFailure when the template rejects the parameters."""
    ctx = SqlContext(rule, kind, dialect)
    body = render(ctx)
    sampled = kind.shape == "rows" and rule.samples > 0
    if kind.shape == "rows":
        body = _wrap_rows(ctx, body, rule.samples)
    sql = finish(dialect, body)
    guarded = kind.takes_raw_sql or rule.where_sql is not None
    return Probe(rule=rule, kind=kind, dialect=dialect, sql=sql, params=dict(ctx.params), shape=kind.shape,
                 sampled=sampled, guarded=guarded)


def _wrap_rows(ctx: SqlContext, body: str, samples: int) -> str:
    """Count every offending row and return the first `samples` of them in the same statement."""
    if samples <= 0:
        return f"SELECT COUNT(*) AS wd_count FROM (\n{body}\n) wd_v"
    limit = ctx.bind(samples)
    return (
        f"WITH wd_v AS (\n{body}\n)\n"
        "SELECT wd_c.wd_count, wd_s.*\n"
        "FROM (SELECT COUNT(*) AS wd_count FROM wd_v) wd_c\n"
        f"LEFT JOIN (SELECT * FROM wd_v LIMIT {limit}) wd_s ON 1 = 1"
    )


"""Rule -> Probe, in the shape a DBA would write by hand for the same answer.

- A kind whose violations are the rows of its table matching its conditions (`batch: true`):
  the count comes from those conditions (`SELECT COUNT(*) FROM t WHERE ...`, an index-only scan
  where an index fits) and the samples from the template's own ordered query with a LIMIT (an
  index scan that stops after `samples` rows), both in one statement: no offending set is
  materialized or sorted, however large an incident is. While the rule holds (the common case)
  the evaluator runs the count alone (`count_sql`): as a DBA would, the samples are asked for
  only once there is something to show; a rule found violated runs the one statement until it
  holds again, so each state costs one round trip.
- Any other row kind (duplicate, sql): one pass, its rows with a window count of them.
- An aggregate kind: the template's one plain query.
"""
from __future__ import annotations

import re
from functools import lru_cache

import jinja2

from watchdog.catalogue.kind import CheckKind
from watchdog.compiler.context import CHILD, SqlContext, TemplateFailure
from watchdog.compiler.params import SENTINEL
from watchdog.compiler.probe import Probe
from watchdog.config.model import Rule
from watchdog.dialects import Dialect
from watchdog.model.conditions import Missing

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
    batchable = kind.batch and rule.table is not None and not rule.group_by and rule.per is None
    if batchable and ctx.recorded is None:
        raise TemplateFailure(f"template {kind.template_path.name}: a 'batch: true' kind must call where()")
    conditions = tuple(ctx.recorded or ())
    samples_sql = count_sql = None
    if kind.shape == "rows" and batchable:
        samples_sql = f"{body}\nLIMIT {ctx.bind(rule.samples)}" if rule.samples > 0 else None
        count_sql = _count(ctx)
        body = _count_and_samples(ctx, body, count_sql, rule.samples)
    elif kind.shape == "rows" and not rule.params.get("normalize") and (ctx.counts_itself or dialect.keeps_subquery_order):
        body = _window_count(ctx, body, rule.samples)
    # else: run as written (MariaDB would drop a wrapped query's ORDER BY; normalized duplicate groups
    # are counted when merged), its rows counted as they come
    population_sql = None
    if rule.min_population is not None and rule.table is not None:
        population_sql = (f"SELECT COUNT(*) AS wd_population FROM {dialect.quote(rule.table)} "
                          f"{ctx.sql.where_clause(ctx.rule_conditions())}")
    joined = [p for cond in conditions for p in cond.walk() if isinstance(p, Missing)]
    relations = {CHILD: joined[0].table} if joined else {}
    return Probe(
        rule=rule, kind=kind, dialect=dialect, sql=finish(dialect, body), params=dict(ctx.params), shape=kind.shape,
        sampled=kind.shape == "rows" and rule.samples > 0, guarded=kind.takes_raw_sql or rule.where_sql is not None,
        conditions=conditions, samples_sql=finish(dialect, samples_sql) if samples_sql else None, relations=relations,
        population_sql=finish(dialect, population_sql) if population_sql else None,
        count_sql=finish(dialect, count_sql) if count_sql else None,
        counted_here=kind.shape == "rows" and not batchable and not ctx.counts_itself and not dialect.keeps_subquery_order,
    )


def _count(ctx: SqlContext) -> str:
    return f"SELECT COUNT(*) AS wd_count FROM {ctx.dialect.quote(ctx.rule.table or '')} {ctx.sql.where_clause(ctx.recorded or ())}"


def _count_and_samples(ctx: SqlContext, body: str, count: str, samples: int) -> str:
    """The count from the conditions, the first samples from the ordered query: one statement."""
    if samples <= 0:
        return count
    return (f"SELECT wd_n.wd_count, wd_s.*\nFROM ({count}) wd_n\n"
            f"LEFT JOIN (\n{body}\nLIMIT {ctx.bind(samples)}\n) wd_s ON wd_n.wd_count > 0")


def _window_count(ctx: SqlContext, body: str, samples: int) -> str:
    """Rows of a query that groups or is the user's own: one pass, each row carrying the total
    (counted by the template itself with row_total(), else by a window over its rows)."""
    if samples <= 0:
        return f"SELECT COUNT(*) AS wd_count FROM (\n{body}\n) wd_v"
    if ctx.counts_itself:
        return f"{body}\nLIMIT {ctx.bind(samples)}"
    return f"SELECT COUNT(*) OVER () AS wd_count, wd_v.*\nFROM (\n{body}\n) wd_v\nLIMIT {ctx.bind(samples)}"

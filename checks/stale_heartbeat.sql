{#- Rows: every running row whose heartbeat is too old (or missing), stalest first. -#}
{%- set stale = before(heartbeat_column, max_age) -%}
{%- if null_is_stale -%}
{%- set never = all_of(is_null(heartbeat_column), before(time_column, max_age)) if time_column else is_null(heartbeat_column) -%}
{%- set stale = any_of(stale, never) -%}
{%- endif -%}
SELECT *, {{ age(heartbeat_column) }} AS heartbeat_age_seconds
FROM {{ table }}
{{ where(stale) }}
ORDER BY {{ heartbeat_column }}

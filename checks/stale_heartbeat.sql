{#- Rows: every running row whose heartbeat is too old, stalest first. -#}
{%- set stale = heartbeat_column ~ ' < ' ~ cutoff(max_age) -%}
{%- if null_is_stale -%}
{%- set missing = heartbeat_column ~ ' IS NULL' ~ ((' AND ' ~ time_column ~ ' < ' ~ cutoff(max_age)) if time_column else '') -%}
{%- set stale = '(' ~ stale ~ ' OR (' ~ missing ~ '))' -%}
{%- endif -%}
SELECT *, {{ age(heartbeat_column) }} AS heartbeat_age_seconds
FROM {{ table }}
{{ where(stale) }}
ORDER BY {{ heartbeat_column }}

{#- Rows: one per duplicated key, with how many copies it has. -#}
{%- set keys = key | join(', ') -%}
{%- if tolerance is none -%}
SELECT {{ keys }}, COUNT(*) AS copies
FROM {{ table }}
{{ where() }}
GROUP BY {{ keys }}
HAVING COUNT(*) > 1
ORDER BY COUNT(*) DESC, {{ keys }}
{%- else -%}
{%- set tcol = tolerance_column or time_column -%}
{%- if tcol is none %}{{ fail("'tolerance' needs 'tolerance_column' or 'time_column'") }}{% endif -%}
SELECT {{ keys }}, COUNT(*) + 1 AS copies, MIN(wd_gap_seconds) AS min_gap_seconds
FROM (
  SELECT {{ keys }}, {{ seconds_between(tcol, 'LAG(' ~ tcol ~ ') OVER (PARTITION BY ' ~ keys ~ ' ORDER BY ' ~ tcol ~ ')') }} AS wd_gap_seconds
  FROM {{ table }}
  {{ where() }}
) wd_pairs
WHERE wd_gap_seconds <= {{ bind(tolerance) }}
GROUP BY {{ keys }}
ORDER BY COUNT(*) DESC, {{ keys }}
{%- endif %}

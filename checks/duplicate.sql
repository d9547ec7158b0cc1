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
{#- With a tolerance, a copy is a row within `tolerance` of its previous or next row of the same key. -#}
{%- set tcol = tolerance_column or time_column -%}
{%- if tcol is none %}{{ fail("'tolerance' needs 'tolerance_column' or 'time_column'") }}{% endif -%}
{%- set over = ' OVER (PARTITION BY ' ~ keys ~ ' ORDER BY ' ~ tcol ~ ')' -%}
SELECT {{ keys }}, COUNT(*) AS copies, MIN(wd_gap_before) AS min_gap_seconds
FROM (
  SELECT {{ keys }},
         {{ seconds_between(tcol, 'LAG(' ~ tcol ~ ')' ~ over) }} AS wd_gap_before,
         {{ seconds_between('LEAD(' ~ tcol ~ ')' ~ over, tcol) }} AS wd_gap_after
  FROM {{ table }}
  {{ where() }}
) wd_rows
WHERE wd_gap_before <= {{ bind(tolerance) }} OR wd_gap_after <= {{ bind(tolerance) }}
GROUP BY {{ keys }}
ORDER BY COUNT(*) DESC, {{ keys }}
{%- endif %}

{#- Rows: one per duplicated key, with how many copies it has; row_total() counts the keys in the same
    pass, so the samples are a top-N of the groups, not a sort of all of them. -#}
{%- set keys = key | join(', ') -%}
{%- set buckets = per_buckets() -%}
{%- if normalize and (buckets or tolerance is not none) %}{{ fail("'normalize' cannot be combined with 'per' or 'tolerance'") }}{% endif -%}
{%- for column, form in (normalize or {}).items() -%}
{%- if column not in key | map(attribute='name') | list %}{{ fail("'normalize' names '" ~ column ~ "', which is not a column of 'key'") }}{% endif -%}
{%- if form != 'cron' %}{{ fail("'normalize' knows the form 'cron' only, not '" ~ form ~ "'") }}{% endif -%}
{%- endfor -%}
{%- if buckets -%}
{#- With per, a key is duplicated within one local hour, day or week (its bucket label in `bucket`). -#}
{%- if tolerance is not none %}{{ fail("'per' and 'tolerance' cannot be combined") }}{% endif -%}
SELECT {{ keys }}, wd_bucket AS bucket, COUNT(*) AS copies, {{ row_total() }}
FROM (
  SELECT {{ keys }}, CASE {% for b in buckets %}WHEN {{ b }} THEN {{ bucket_label(loop.index0) }} {% endfor %}END AS wd_bucket
  FROM {{ table }}
  {{ where() }}
) wd_p
GROUP BY {{ keys }}, wd_bucket
HAVING COUNT(*) > 1
ORDER BY COUNT(*) DESC, {{ keys }}, wd_bucket
{%- elif tolerance is none -%}
{#- With normalize, every group as written: watchdog merges those whose canonical keys are equal. -#}
SELECT {{ keys }}, COUNT(*) AS copies{% if not normalize %}, {{ row_total() }}{% endif %}
FROM {{ table }}
{{ where() }}
GROUP BY {{ keys }}
{%- if not normalize %}
HAVING COUNT(*) > 1
{%- endif %}
ORDER BY COUNT(*) DESC, {{ keys }}
{%- else -%}
{#- With a tolerance, a copy is a row within `tolerance` of its previous or next row of the same key. -#}
{%- set tcol = tolerance_column or time_column -%}
{%- if tcol is none %}{{ fail("'tolerance' needs 'tolerance_column' or 'time_column'") }}{% endif -%}
{%- set over = ' OVER (PARTITION BY ' ~ keys ~ ' ORDER BY ' ~ tcol ~ ')' -%}
SELECT {{ keys }}, COUNT(*) AS copies, MIN(wd_gap_before) AS min_gap_seconds, {{ row_total() }}
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

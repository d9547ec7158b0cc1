{#- One row: the failure ratio, the counts behind it, and whether it is too high. -#}
{%- set g = group_by | join(', ') -%}
SELECT {% for c in group_by %}wd.{{ c }}, {% endfor %}wd.failed * 1.0 / NULLIF(wd.total, 0) AS value,
       CASE WHEN wd.total >= {{ bind(min_total) }} AND wd.failed * 1.0 / NULLIF(wd.total, 0) > {{ bind(max) }} THEN 1 ELSE 0 END AS violated,
       wd.failed AS failed, wd.total AS total
FROM (
  SELECT {{ g ~ ', ' if g }}COUNT(*) AS total,
         COALESCE(SUM(CASE WHEN {{ conditions(failed) | join(' AND ') }} THEN 1 ELSE 0 END), 0) AS failed
  FROM {{ table }}
  {{ where() }}
  {{ 'GROUP BY ' ~ g if g }}
) wd

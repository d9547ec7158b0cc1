{#- One row: how many rows match (per group with group_by; per local bucket with per). -#}
{%- set g = group_by | join(', ') -%}
{%- set buckets = per_buckets() -%}
{%- if buckets -%}
{%- if g %}{{ fail("'per' and 'group_by' cannot be combined") }}{% endif -%}
SELECT {% for b in buckets %}{{ count_where(b) }} AS wd_b{{ loop.index0 }}{{ ",\n       " if not loop.last }}{% endfor %}
FROM {{ table }}
{{ where() }}
{%- else -%}
SELECT {{ g ~ ', ' if g }}COUNT(*) AS value
FROM {{ table }}
{{ where() }}
{{ 'GROUP BY ' ~ g if g }}
{%- endif %}

{#- Rows: parent rows older than the grace period with no matching child row. -#}
{%- set link = [] -%}
{%- for parent_col, child_col in child.on -%}{%- do link.append('c.' ~ child_col ~ ' = p.' ~ parent_col) -%}{%- endfor -%}
{%- set child_where = link + conditions(child.where, 'c') -%}
SELECT p.*, {{ age('p.' ~ time_column) }} AS age_seconds
FROM {{ table }} p
{{ where('p.' ~ time_column ~ ' < ' ~ cutoff(older_than),
         'NOT EXISTS (SELECT 1 FROM ' ~ child.table ~ ' c WHERE ' ~ child_where | join(' AND ') ~ ')',
         alias='p') }}
ORDER BY p.{{ time_column }}

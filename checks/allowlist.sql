{#- Rows: every row whose column is outside the allowed values (or NULL unless allowed). -#}
{%- set outside = not_in(column, allowed) -%}
SELECT *
FROM {{ table }}
{{ where(outside if allow_null else any_of(outside, is_null(column))) }}
{%- if time_column %}
ORDER BY {{ time_column }} DESC
{%- endif %}

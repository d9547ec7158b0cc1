{#- Rows: every row whose column is outside the allowed values (or NULL unless allowed). -#}
{%- set outside = column ~ ' NOT IN ' ~ bind_list(allowed) -%}
SELECT *
FROM {{ table }}
{{ where(outside if allow_null else '(' ~ outside ~ ' OR ' ~ column ~ ' IS NULL)') }}
{%- if time_column %}
ORDER BY {{ time_column }} DESC
{%- endif %}

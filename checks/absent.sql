{#- One row: the age of the newest matching row within the lookback, and whether it is too old.
    MAX over the (filter, time) index reads one index entry, whatever the lookback holds. -#}
{%- set lb = lookback if lookback is not none else within * 10 -%}
{%- set g = group_by | join(', ') -%}
SELECT {{ g ~ ', ' if g }}{{ age('MAX(' ~ time_column ~ ')') }} AS value,
       CASE WHEN MAX({{ time_column }}) >= {{ cutoff(within) }} THEN 0 ELSE 1 END AS violated
FROM {{ table }}
{{ where(since(time_column, lb)) }}
{{ 'GROUP BY ' ~ g if g }}

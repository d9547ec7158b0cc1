{#- One row: the age of the newest matching row, and whether it is too old. -#}
{%- set lb = lookback if lookback is not none else within * 10 -%}
SELECT {{ age('MAX(' ~ time_column ~ ')') }} AS value,
       CASE WHEN MAX({{ time_column }}) >= {{ cutoff(within) }} THEN 0 ELSE 1 END AS violated,
       COUNT(*) AS rows_in_lookback
FROM {{ table }}
{{ where(time_column ~ ' >= ' ~ cutoff(lb)) }}

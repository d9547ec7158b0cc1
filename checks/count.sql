{#- One row: how many rows match. -#}
SELECT COUNT(*) AS value
FROM {{ table }}
{{ where() }}

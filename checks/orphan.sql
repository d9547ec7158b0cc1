{#- Rows: parent rows older than the grace period with no matching child row, oldest first. -#}
SELECT *, {{ age(time_column) }} AS age_seconds
FROM {{ table }}
{{ where(before(time_column, older_than), missing(child.table, child.on, child.where)) }}
ORDER BY {{ time_column }}

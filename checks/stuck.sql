{#- Rows: every row in the status for longer than older_than, oldest first. -#}
SELECT *, {{ age(time_column) }} AS age_seconds
FROM {{ table }}
{{ where(before(time_column, older_than)) }}
ORDER BY {{ time_column }}

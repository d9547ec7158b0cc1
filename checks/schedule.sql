{#- Rows: the runs in the lookback (with `jobs`: every job, its schedule and its runs), judged in
    Python against each expected fire. Bounded: one row more than max_runs says "too many". -#}
{%- if jobs is none -%}
{%- if cron is none %}{{ fail("check 'schedule' needs 'cron' (a declared schedule) or 'jobs' (schedules read per job)") }}{% endif -%}
SELECT {{ time_column }} AS wd_start,
       {{ finished_column if finished_column is not none else 'NULL' }} AS wd_finish
FROM {{ table }}
{{ where(since(time_column, lookback)) }}
ORDER BY {{ time_column }}
LIMIT {{ bind(max_runs + 1) }}
{%- else -%}
{%- if cron is not none %}{{ fail("give 'cron' (one declared schedule) or 'jobs' (schedules per job), not both") }}{% endif -%}
{%- if jobs.timezone_setting is not none and dialect != 'postgresql' %}{{ fail("'jobs.timezone_setting' reads a PostgreSQL setting") }}{% endif -%}
{%- set zone = ('j.' ~ jobs.timezone_column) if jobs.timezone_column is not none
      else ('current_setting(' ~ bind(jobs.timezone_setting) ~ ', true)') if jobs.timezone_setting is not none else 'NULL' -%}
SELECT j.{{ ident(jobs.on[0].child) }} AS wd_job,
       j.{{ jobs.schedule_column }} AS wd_schedule,
       {{ zone }} AS wd_timezone,
       {{ ('j.' ~ jobs.name_column) if jobs.name_column is not none else 'NULL' }} AS wd_name,
       {{ ('j.' ~ jobs.created_column) if jobs.created_column is not none else 'NULL' }} AS wd_created,
       {{ table }}.{{ time_column }} AS wd_start,
       {{ (table ~ '.' ~ finished_column) if finished_column is not none else 'NULL' }} AS wd_finish
FROM {{ jobs.table }} j
LEFT JOIN {{ table }}
  ON {{ joined(jobs.on, 'j') }}
 AND {{ rule_filter(since(time_column, lookback)) }}
{%- if jobs.where %}
WHERE {{ conditions(jobs.where, 'j') | join(' AND ') }}
{%- endif %}
ORDER BY 1, 6
LIMIT {{ bind(max_runs + 1) }}
{%- endif %}

"""The rule most runtime and end-to-end tests watch: a `jobs` row pending for more than 5 minutes.

Written for rule-file templates that go through str.format (braces doubled), so a test's file is
`HEADER + JOBS_STUCK + its own keys for the rule + other rules`.
"""
JOBS_STUCK = """  - name: jobs_stuck
    check: stuck
    table: jobs
    where: {{status: pending}}
    time_column: created_at
    older_than: 5m
    summary: "{{{{ violations }}}} jobs pending for more than 5 minutes"
"""

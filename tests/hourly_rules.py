"""Rule files on one SQLite target whose rules run hourly: within a test a rule runs at start and
when a test makes it run (check(), a reload), never again by itself. For str.format (braces
doubled): `db`, `hook`, and `token` in WITH_TOKEN (the write API's, for POST /-/reload)."""
HOURLY = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
defaults: {{interval: 1h}}
notify:
  webhook: {{url: "{hook}"}}
rules:
"""
WITH_TOKEN = HOURLY.replace("rules:\n", 'api: {{token: "{token}"}}\nrules:\n')
FAILED = """  - name: jobs_failed
    check: count
    table: jobs
    where: {{status: failed}}
    expect: "== 0"
"""
DONE = """  - name: jobs_done
    check: count
    table: jobs
    where: {{status: done}}
"""

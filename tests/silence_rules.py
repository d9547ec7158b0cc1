"""The contract's example of `silences:` (docs/contract.md), on a file with one rule tagged seed-004:
shared by the loader's tests and `watchdog validate`'s."""
HEAD = """\
version: 1
targets:
  main: {dsn: "sqlite:////nonexistent/watchdog.db"}
rules:
  - {name: sitemap_stale, check: count, table: jobs, tags: [seed-004]}
silences:
"""
CONTRACT_SILENCES = """\
  - name: nightly-maintenance
    match: {target: main}
    cron: "0 2 * * *"
    duration: 1h
    timezone: Europe/Berlin
  - name: migration-2026-12-03
    match: {tag: seed-004}
    from: 2026-12-03T08:00:00Z
    until: 2026-12-03T12:00:00Z
"""

"""`duplicate` with `tolerance`: copies count every row close to a neighbour, across separate bursts."""
from __future__ import annotations

import sqlite3

from watchdog.plan import build_plan
from watchdog.evaluation.evaluator import evaluate


def test_two_bursts_of_one_key_count_four_copies(tmp_path, write_rules):
    db = tmp_path / "n.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notifications (id INTEGER PRIMARY KEY, job_id INTEGER, kind TEXT, sent_at TEXT)")
    conn.executemany("INSERT INTO notifications (job_id, kind, sent_at) VALUES (32, 'followup', ?)", [
        ("2026-02-19 09:00:00",), ("2026-02-19 09:00:03",),   # first burst
        ("2026-02-19 12:00:00",),                             # alone: not a copy
        ("2026-02-19 15:00:00",), ("2026-02-19 15:00:01",),   # second burst
    ])
    conn.commit()
    conn.close()
    path = write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "sqlite:///{db}"}}}}
        rules:
          - {{name: sms_twice, check: duplicate, table: notifications, key: [job_id, kind], time_column: sent_at, tolerance: 5s}}
    """)
    plan = build_plan(path, env={})
    [result] = evaluate(plan.probes, plan.targets)
    assert (result.status, result.violations) == ("violated", 1)
    assert result.samples == ({"job_id": 32, "kind": "followup", "copies": 4, "min_gap_seconds": 1.0},)

"""/metrics over HTTP from a real Watchdog: the catalogue in docs/metrics.md and product.md's table
hold against what is served, and the figures follow the results (a failed probe keeps the last ones)."""
from __future__ import annotations

import gzip
import math
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from runtime_helpers import JOBS_RULES as RULES, sql

from artifacts.servers import Receiver, eventually
from watchdog import __version__
from watchdog.runtime.exposition import Exposition
from watchdog.runtime.watchdog import Watchdog

DOCS = Path(__file__).resolve().parents[2] / "docs"
ROW = re.compile(r"^\| `(watchdog_\w+)` \| (\w+)[^|]*\| ([\w, ]+) \|")


def catalogue(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (type, labels) from a markdown table of metrics."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            found[match[1]] = (match[2], frozenset(label.strip() for label in match[3].split(",")) - {"none"})
    return found


def scrape(watchdog: Watchdog) -> dict[str, tuple[str, frozenset[str], list]]:
    """Over HTTP when the watchdog is started, else straight from its registry."""
    if watchdog.running:
        with urllib.request.urlopen(f"http://{watchdog.address}/metrics", timeout=5) as response:
            text = response.read().decode()
    else:
        text = generate_latest(watchdog.registry).decode()
    served = {}
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = frozenset(k for s in family.samples for k in s.labels if k not in ("le",))
        served[name] = (family.type, labels, family.samples)
    return served


def sample(served: dict, name: str, **labels: str) -> float:
    [value] = [s.value for _, _, samples in served.values() for s in samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    return value


def test_the_catalogue_and_the_contract_hold_against_what_is_served(make_watchdog: Callable[..., Watchdog], jobs_db: Path,
                                                                     receiver: Receiver) -> None:
    watchdog = make_watchdog(RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), listen="127.0.0.1:0")
    watchdog.start()
    watchdog.check()
    served = {name: (kind, labels) for name, (kind, labels, _) in scrape(watchdog).items()}
    documented = catalogue(DOCS / "metrics.md")
    assert served == documented
    contract = catalogue(DOCS / "contract.md")
    assert len(contract) == 9 and all(documented[name] == spec for name, spec in contract.items())


def test_figures_follow_the_results_and_a_failed_probe_keeps_the_last_ones(make_watchdog: Callable[..., Watchdog],
                                                                           jobs_db: Path, receiver: Receiver) -> None:
    watchdog = make_watchdog(RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"), listen="127.0.0.1:0")
    sql(jobs_db, "INSERT INTO jobs (status, created_at) VALUES ('pending', datetime('now', '-2 hours'))")
    watchdog.check()
    served = scrape(watchdog)
    stuck = dict(rule="jobs_stuck", target="main")
    assert sample(served, "watchdog_rule_violations", check="stuck", severity="critical", **stuck) == 1
    assert sample(served, "watchdog_rule_up", **stuck) == 1
    assert sample(served, "watchdog_target_up", target="main") == 1
    assert sample(served, "watchdog_target_up", target="gone") == 0
    assert sample(served, "watchdog_rule_up", rule="never_runs", target="gone") == 0
    assert math.isnan(sample(served, "watchdog_rule_violations", rule="never_runs", target="gone"))
    assert sample(served, "watchdog_probe_errors_total", rule="never_runs", target="gone") == 1
    assert sample(served, "watchdog_probe_duration_seconds_count", **stuck) == 1
    assert sample(served, "watchdog_build_info", version=__version__) == 1
    assert sample(served, "watchdog_notifications_total", notifier="webhook", result="retry") == 0

    sql(jobs_db, "DROP TABLE jobs")
    [first, _] = watchdog.check()
    assert first.status == "error" and "no such table" in (first.error or "")
    served = scrape(watchdog)
    assert sample(served, "watchdog_rule_up", **stuck) == 0
    assert sample(served, "watchdog_rule_violations", check="stuck", severity="critical", **stuck) == 1
    assert sample(served, "watchdog_rule_value", **stuck) == 1
    assert sample(served, "watchdog_probe_errors_total", **stuck) == 1
    assert sample(served, "watchdog_rule_last_evaluation_timestamp_seconds", **stuck) == first.evaluated_at.timestamp()


def test_the_served_body_follows_the_ledger_without_rendering_per_scrape(make_watchdog: Callable[..., Watchdog],
                                                                         jobs_db: Path, receiver: Receiver) -> None:
    watchdog = make_watchdog(RULES.format(db=jobs_db, hook=f"{receiver.url}/hook"))
    exposition = Exposition(watchdog.registry, watchdog.ledger.changed, min_interval=0.05)
    exposition.start()
    try:
        first, content_type, zipped = exposition.body("text/plain", "")
        assert b"watchdog_rule_up{" not in first and content_type.startswith("text/plain") and not zipped
        assert exposition.body("text/plain", "")[0] is first  # nothing changed: the same bytes, not a new render
        watchdog.check()
        eventually(lambda: b'watchdog_rule_up{rule="jobs_stuck",target="main"} 1.0' in exposition.body("text/plain", "")[0],
                   "the rendered body to show the evaluation")
        body, _, zipped = exposition.body("text/plain", "gzip")
        assert zipped and b"watchdog_rule_up" in gzip.decompress(body)
    finally:
        exposition.stop()

"""`--format json`: the result record of product.md."""
from __future__ import annotations

import json
from collections.abc import Sequence

from watchdog.output.presented import Rules, summary
from watchdog.results.model import Result, summarize


def render(results: Sequence[Result], rules: Rules | None = None) -> str:
    """Each result's record, with `summary`: its rule's summary rendered when violated, else null."""
    records = [{**r.to_dict(), "summary": summary(r, rules)} for r in results]
    return json.dumps({"results": records, "summary": summarize(results)}, indent=2) + "\n"

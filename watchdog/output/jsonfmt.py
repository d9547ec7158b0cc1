"""`--format json`: the result record of product.md."""
from __future__ import annotations

import json
from collections.abc import Sequence

from watchdog.results.model import Result, summarize


def render(results: Sequence[Result]) -> str:
    return json.dumps({"results": [r.to_dict() for r in results], "summary": summarize(results)}, indent=2) + "\n"

"""The same project with Celery's defaults for what results record: no extended results, no
STARTED state. Rows then lack what per-task rules need (docs/schedulers-python.md)."""
from __future__ import annotations

from wdcelery.settings import *  # noqa: F403 (a settings variant, as Django projects write them)

CELERY_RESULT_EXTENDED = False
CELERY_TASK_TRACK_STARTED = False

"""The same project with naive datetimes in a non-UTC zone and django-celery-beat told so: the
combination under which beat writes last_run_at hours off (docs/schedulers-python.md)."""
from __future__ import annotations

from wdcelery.settings import *  # noqa: F403 (a settings variant, as Django projects write them)

USE_TZ = False
TIME_ZONE = "America/New_York"
CELERY_TIMEZONE = TIME_ZONE
DJANGO_CELERY_BEAT_TZ_AWARE = False

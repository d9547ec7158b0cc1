"""Django settings for the Celery harness; the database is $WD_CELERY_DATABASE_URL, an SQLAlchemy URL.

Results go to django-celery-results (`django-db`), the schedule to django-celery-beat, and the
broker is kombu's SQLAlchemy transport on the same PostgreSQL, so no other service is needed.
"""
from __future__ import annotations

import os

from sqlalchemy.engine import make_url

_url = make_url(os.environ["WD_CELERY_DATABASE_URL"])

SECRET_KEY = "watchdog-scheduler-tests"
INSTALLED_APPS = ["django_celery_results", "django_celery_beat"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.database,
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.host or "",
        "PORT": str(_url.port or ""),
    }
}
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

CELERY_BROKER_URL = f"sqla+{_url.render_as_string(hide_password=False)}"
CELERY_RESULT_BACKEND = "django-db"
# Without these two, result rows have no task_name/args and no STARTED state: see docs/schedulers-python.md.
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = "UTC"
# Beat writes last_run_at/total_run_count after every task it sends (by default only every 3 minutes),
# and wakes at least every second.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BEAT_MAX_LOOP_INTERVAL = 1
# A prefork worker marks the task of a pool child that died FAILURE after this many seconds (default 10).
CELERY_WORKER_LOST_WAIT = 1
# The SQLAlchemy transport has no fanout exchange (no remote control, no events), and passes every
# transport option to create_engine(): its polling interval stays the default 1 s.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False

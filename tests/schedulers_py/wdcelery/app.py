"""The Celery app, configured from the Django settings as Django projects do."""
from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wdcelery.settings")

from celery import Celery  # noqa: E402

app = Celery("wdcelery")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["wdcelery"])

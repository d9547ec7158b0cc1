"""A minimal Django project with a Celery app: the real Celery, django-celery-results and
django-celery-beat that the scheduler tests run as worker and beat processes.

The app is imported here, as Django projects do, so that the tasks bind to it (and its broker)
and never to Celery's default app, which would publish to an AMQP server on localhost."""
from .app import app

__all__ = ["app"]

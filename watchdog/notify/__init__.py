"""Alert delivery for `watchdog run`: notifiers (Slack, webhook, Alertmanager) behind a durable outbox."""
from watchdog.notify.base import DeliveryError, Notifier
from watchdog.notify.factory import build_notifiers
from watchdog.notify.message import Notification, fingerprint_of
from watchdog.notify.outbox import Dispatcher, Outbox

__all__ = ["DeliveryError", "Dispatcher", "Notification", "Notifier", "Outbox", "build_notifiers", "fingerprint_of"]

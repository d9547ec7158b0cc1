"""What a notifier is, and the one error it may raise: retry later, or give up."""
from __future__ import annotations

from abc import ABC, abstractmethod

from watchdog.notify.message import Notification


class DeliveryError(Exception):
    """A notification did not get through. The message is one line and holds no secret."""

    def __init__(self, message: str, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


class Notifier(ABC):
    """Delivers one notification, or raises DeliveryError.

    `resend_interval`: how often a firing alert must be re-sent to this notifier whatever the
    rule's repeat_interval (None: only on repeat_interval). Alertmanager needs it, because it
    resolves an alert it has not heard about for its resolve_timeout.
    """

    name: str
    resend_interval: float | None = None

    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Deliver now, once; retries are the dispatcher's job."""

"""One pass of the background worker. Safe to run in several processes at once."""

from dataclasses import dataclass

from supportpin.access.actions import expire_due_pins
from supportpin.lib import clock
from supportpin.notify.outbox import send_due


@dataclass(frozen=True)
class PassReport:
    pins_expired: int
    sent: int
    failed: int

    @property
    def busy(self) -> bool:
        return any((self.pins_expired, self.sent, self.failed))

    def summary(self) -> str:
        return f"expired {self.pins_expired} PINs, sent {self.sent} messages, {self.failed} failed"


def run_pass() -> PassReport:
    """Materialise what time has changed, then send what the outbox holds."""
    now = clock.now()
    expired = expire_due_pins(now=now)
    sent, failed = send_due(now=clock.now())
    return PassReport(pins_expired=expired, sent=sent, failed=failed)

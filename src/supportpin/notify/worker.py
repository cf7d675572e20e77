"""One pass of the background worker. Safe to run in several processes at once."""

from dataclasses import dataclass

from supportpin.access.actions import expire_due_pins
from supportpin.lib import clock
from supportpin.notify.outbox import send_due
from supportpin.tickets.actions import materialise_due


@dataclass(frozen=True)
class PassReport:
    pins_expired: int
    tickets_autoclosed: int
    tickets_locked: int
    reminders: int
    sent: int
    failed: int

    @property
    def busy(self) -> bool:
        return any(
            (
                self.pins_expired,
                self.tickets_autoclosed,
                self.tickets_locked,
                self.reminders,
                self.sent,
                self.failed,
            )
        )

    def summary(self) -> str:
        return (
            f"expired {self.pins_expired} PINs; tickets: {self.tickets_autoclosed} auto-closed, "
            f"{self.tickets_locked} locked, {self.reminders} reminded; "
            f"outbox: {self.sent} sent, {self.failed} failed"
        )


def run_pass() -> PassReport:
    """Materialise what time has changed, then send what the outbox holds."""
    now = clock.now()
    expired = expire_due_pins(now=now)
    autoclosed, locked, reminders = materialise_due(now=now)
    sent, failed = send_due(now=clock.now())
    return PassReport(
        pins_expired=expired,
        tickets_autoclosed=autoclosed,
        tickets_locked=locked,
        reminders=reminders,
        sent=sent,
        failed=failed,
    )

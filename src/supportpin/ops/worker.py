"""The background worker: passes over due work, and a loop that outlives database outages."""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import structlog
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from supportpin.access.actions import end_due_ticket_grants, expire_due_pins
from supportpin.audit.actions import seal_due
from supportpin.lib import clock
from supportpin.notify.outbox import send_due
from supportpin.ops.housekeeping import prune_done_rows
from supportpin.ops.metrics import observe_pass
from supportpin.tickets.actions import materialise_due

log = structlog.get_logger(__name__)

# Seconds to wait after a pass the database broke: 1, 2, 4, … at most 30, until a pass succeeds.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class PassReport:
    pins_expired: int
    tickets_autoclosed: int
    tickets_locked: int
    ticket_grants_ended: int
    reminders: int
    sent: int
    failed: int
    sealed: int
    pruned: int

    @property
    def busy(self) -> bool:
        return any(
            (
                self.pins_expired,
                self.tickets_autoclosed,
                self.tickets_locked,
                self.ticket_grants_ended,
                self.reminders,
                self.sent,
                self.failed,
                self.sealed,
                self.pruned,
            )
        )

    def summary(self) -> str:
        return (
            f"expired {self.pins_expired} PINs; tickets: {self.tickets_autoclosed} auto-closed, "
            f"{self.tickets_locked} locked, {self.reminders} reminded; "
            f"ticket grants: {self.ticket_grants_ended} ended; "
            f"outbox: {self.sent} sent, {self.failed} failed; "
            f"access log: {self.sealed} sealed; "
            f"housekeeping: {self.pruned} rows deleted"
        )


def run_pass() -> PassReport:
    """Materialise what time has changed, send what the outbox holds, seal the access log,
    delete rows whose time is over."""
    now = clock.now()
    expired = expire_due_pins(now=now)
    autoclosed, locked, reminders = materialise_due(now=now)
    ticket_grants_ended = end_due_ticket_grants(now=now)
    sent, failed = send_due(now=clock.now())
    # Last, so the entries this pass wrote are sealed with it.
    sealed = seal_due(now=clock.now())
    pruned = prune_done_rows(now=clock.now())
    return PassReport(
        pins_expired=expired,
        tickets_autoclosed=autoclosed,
        tickets_locked=locked,
        ticket_grants_ended=ticket_grants_ended,
        reminders=reminders,
        sent=sent,
        failed=failed,
        sealed=sealed,
        pruned=pruned,
    )


def run_forever(
    *,
    interval: float,
    work: Callable[[], PassReport] = run_pass,
    sleep: Callable[[float], None] = time.sleep,
    passes: int | None = None,
) -> None:
    """Run `work` again and again (`passes` times, or for ever), riding out database outages."""
    backoff = FIRST_BACKOFF
    done = 0
    while passes is None or done < passes:
        done += 1
        # A connection kept across passes (CONN_MAX_AGE > 0) may have died in between.
        close_old_connections()
        started = time.perf_counter()
        try:
            report = work()
        except (OperationalError, InterfaceError) as error:
            # A restart or failover kills our session: drop it, so the next pass reconnects.
            connection.close()
            reason = " ".join(str(error).split()) or type(error).__name__
            log.warning("worker pass failed, retrying in %g s: database: %s", backoff, reason)
            sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = FIRST_BACKOFF
        seconds = time.perf_counter() - started
        rows = asdict(report)
        observe_pass(seconds=seconds, rows=rows)
        if report.busy:
            log.info("worker pass", duration_ms=round(seconds * 1000, 1), **rows)
        else:
            sleep(interval)

"""Time the worker's ticket catch-up (auto-close, lock, reminders) over many due tickets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_bench \\
        .venv/bin/python bench/worker_pass.py --tickets 100000

Use a throwaway database: the script migrates it, refuses to touch one that already holds
customers or tickets, fills it with N tickets that are due for both auto-close and lock (each
costs one status write, one e-mail in the outbox and two audit entries), then runs passes of
`materialise_due` until nothing is due and prints tickets/second. Drop the database afterwards.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from supportpin.accounts.actions import sync_customer  # noqa: E402
from supportpin.accounts.models import Customer  # noqa: E402
from supportpin.audit.models import AuditEntry  # noqa: E402
from supportpin.lib import clock  # noqa: E402
from supportpin.notify.models import OutboxMessage  # noqa: E402
from supportpin.tickets.actions import materialise_due  # noqa: E402
from supportpin.tickets.models import Status, Ticket  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="due tickets (100000)")
    parser.add_argument("--customers", type=int, default=100, help="customers owning them")
    parser.add_argument("--limit", type=int, default=500, help="tickets per transaction")
    args = parser.parse_args()

    settings = connection.settings_dict
    print(f"database: {connection.vendor} {settings['NAME']}")
    call_command("migrate", verbosity=0)
    if Customer.objects.exists() or Ticket.objects.exists():
        print(
            "refusing: the database is not empty; use a fresh throwaway database", file=sys.stderr
        )
        return 2

    now = clock.now()
    started = time.perf_counter()
    numbers = [f"BENCH-{i:05}" for i in range(args.customers)]
    for number in numbers:
        sync_customer(
            number=number,
            name=f"Bench {number}",
            email=f"{number.lower()}@bench.example",
            password=None,
            phone="",
            address=None,
            now=now,
        )
    created = now - timedelta(days=31)
    answered = now - timedelta(days=15)
    Ticket.objects.bulk_create(
        (
            Ticket(
                customer_id=numbers[i % len(numbers)],
                subject=f"Bench ticket {i}",
                status=Status.ANSWERED,
                created_at=created,
                updated_at=answered,
                last_message_at=answered,
                remind_at=answered + timedelta(days=12),
            )
            for i in range(args.tickets)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    print(f"created {args.tickets} due tickets in {time.perf_counter() - started:.1f} s")

    passes, totals = 0, [0, 0, 0]
    started = time.perf_counter()
    while any(done := materialise_due(now=now, limit=args.limit)):
        passes += 1
        totals = [t + d for t, d in zip(totals, done, strict=True)]
    elapsed = time.perf_counter() - started

    print(
        f"{passes} passes of materialise_due(limit={args.limit}) in {elapsed:.1f} s: "
        f"{totals[0]} auto-closed, {totals[1]} locked, {totals[2]} reminded"
    )
    print(f"{args.tickets / elapsed:.0f} tickets/second")
    print(
        f"written: {AuditEntry.objects.count()} audit entries, "
        f"{OutboxMessage.objects.count()} outbox messages"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

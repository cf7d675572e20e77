"""Measure how long after a PIN's end its `grant.ended` reaches the provider's backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_delay \\
        .venv/bin/python bench/grant_end_delay.py [--grants 12] [--interval 5]

Nothing but time ends these grants, so only the worker can announce them. Use a throwaway
database: the script migrates it and refuses one that already holds staff. It starts a local
receiver and one real `supportpin worker --interval N` with `SUPPORTPIN_PIN_TTL_MINUTES=1`,
then redeems `--grants` PINs of as many customers, spread over a few seconds so their ends fall
at different moments of the worker's cycle. For each `grant.ended` it prints the delay from the
PIN's end (`occurred_at`, the grant's `until`) to the moment the receiver had the request, and
the minimum, median and maximum. Drop the database afterwards.
"""

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database
os.environ["SUPPORTPIN_PIN_TTL_MINUTES"] = "1"
os.environ["SUPPORTPIN_EVENTS_WEBHOOK_SECRET"] = secrets.token_hex(16)

ROOT = Path(__file__).resolve().parent.parent
received: list[tuple[float, dict]] = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append((time.time(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=12)
    parser.add_argument("--interval", type=float, default=5.0, help="the worker's --interval")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/grant-events"
    os.environ["SUPPORTPIN_EVENTS_WEBHOOK_URL"] = url

    import django

    django.setup()
    from django.core.management import call_command

    from supportpin.access.actions import open_support_pin, redeem_pin
    from supportpin.accounts.actions import SYSTEM, sync_customer, sync_staff
    from supportpin.accounts.models import Customer, Role, Staff
    from supportpin.lib import clock

    call_command("migrate", verbosity=0)
    if Staff.objects.exists():
        sys.exit("This database already holds staff: use a throwaway database.")
    sync_staff(
        username="bench",
        display_name="Bench",
        password=secrets.token_urlsafe(),  # nobody signs in
        role=Role.SUPPORTER,
        active=True,
        email="bench@staff.example",
        now=clock.now(),
        by=SYSTEM,
    )
    supporter = Staff.objects.get(username="bench")
    for n in range(args.grants):
        sync_customer(
            number=f"B{n}",
            name="Bench",
            email=f"b{n}@customer.example",
            password=None,
            phone="",
            address=None,
            now=clock.now(),
        )

    worker = subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv/bin/supportpin"), "worker", "--interval", str(args.interval)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for customer in Customer.objects.order_by("number"):
            pin = open_support_pin(customer=customer, now=clock.now())
            redeem_pin(
                supporter=supporter, customer_number=customer.pk, pin=pin.pin, now=clock.now()
            )
            # Spread the ends over the worker's cycle (not security: S311 does not apply).
            time.sleep(random.uniform(0, 2 * args.interval / args.grants + 0.2))  # noqa: S311
        deadline = time.time() + 60 + 4 * args.interval + 30
        while time.time() < deadline and len(ends()) < args.grants:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait()
        server.shutdown()

    delays = [
        arrived - datetime.fromisoformat(event["occurred_at"]).timestamp()
        for arrived, event in ends()
    ]
    if len(delays) < args.grants:
        sys.exit(f"only {len(delays)} of {args.grants} grant.ended arrived")
    print(f"worker --interval {args.interval:g}, {len(delays)} PIN expiries:")
    print("  delays (s): " + ", ".join(f"{d:.2f}" for d in sorted(delays)))
    print(
        f"  min {min(delays):.2f} s, median {statistics.median(delays):.2f} s, "
        f"max {max(delays):.2f} s"
    )


def ends() -> list[tuple[float, dict]]:
    return [(at, event) for at, event in received if event["type"] == "grant.ended"]


if __name__ == "__main__":
    main()

"""Time the supporter queue's first page with a search, and the queue page with its counts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_search \\
        .venv/bin/python bench/search.py --tickets 100000

Use a throwaway PostgreSQL database: the script migrates it, refuses one that already holds
tickets, and bulk-inserts `--tickets` tickets of 2,000 customers with two or three messages
each (German and English words, a few common, most rare, as support text is), their search
words made by the same function the actions use. Then, through Django's test client and the
real URL routing, middleware and views, it asks each request `--requests` times and prints the
median and 95th percentile in milliseconds, beside the floor endpoint (`GET
/api/v1/support/grants`, no grants) measured the same way:

- the API queue's first page (`GET /api/v1/support/tickets?q=…`) for a rare word, a word in
  about a third of the tickets, a prefix, two words, a ticket number, a customer number, and a
  word found nowhere;
- the web queue page (`/support/tickets/?view=…&q=…`), which adds the counts of its four
  filters (each stopped at 51 rows) to the page.

The goal is under 50 ms for each first page. It prints the load average (as `uptime` shows
it) with the figures: on a shared machine, read them with its load. Drop the database
afterwards.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database
os.environ.setdefault("DEBUG", "1")  # the development log key
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

import pyotp  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from supportpin.accounts.actions import SYSTEM, issue_token, sync_staff  # noqa: E402
from supportpin.accounts.models import Customer, Role, Staff  # noqa: E402
from supportpin.lib import clock  # noqa: E402
from supportpin.tickets.models import AuthorRole, Message, Status, Ticket  # noqa: E402
from supportpin.tickets.search import with_words  # noqa: E402

COMMON = (
    *("server", "startet", "nicht", "mehr", "seit", "update", "bitte", "hilfe", "der", "die"),
    *("das", "ist", "und", "mit", "vserver", "webspace", "domain", "mail", "backup"),
    *("please", "help", "since", "not", "working", "error"),
)
RARE_WORD = "zahnradbahn"
CUSTOMERS = 2000
PASSWORD = secrets.token_urlsafe()
BATCH = 5000


def vocabulary(size: int, rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    return ["".join(rng.choices(letters, k=rng.randint(4, 11))) for _ in range(size)]


def text(rng: random.Random, words: list[str], count: int) -> str:
    # About a third of the words common, the rest from a long tail: support text.
    return " ".join(
        rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(words) for _ in range(count)
    )


def build(tickets: int, supporter: Staff) -> None:
    rng = random.Random(7)  # noqa: S311 (made-up text, the same on every run)
    words = vocabulary(20_000, rng)
    now = clock.now()
    Customer.objects.bulk_create(
        Customer(number=f"K{n:05}", created_at=now, updated_at=now) for n in range(CUSTOMERS)
    )
    statuses = [Status.OPEN, Status.ANSWERED, Status.CLOSED]
    made = 0
    while made < tickets:
        batch, bodies = [], []
        for n in range(made, min(made + BATCH, tickets)):
            at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            subject = text(rng, words, rng.randint(3, 7))
            messages = [text(rng, words, rng.randint(15, 60)) for _ in range(rng.randint(2, 3))]
            if n % 10_000 == 0:  # ten tickets in 100,000 hold the rare word
                messages[-1] += f" {RARE_WORD}"
            search_words = with_words("", subject)
            for body in messages:
                search_words = with_words(search_words, body)
            batch.append(
                Ticket(
                    customer_id=f"K{n % CUSTOMERS:05}",
                    subject=subject[:200],
                    status=statuses[n % 3],
                    assignee=supporter if n % 100 == 0 else None,
                    created_at=at,
                    updated_at=at,
                    last_message_at=at,
                    search_words=search_words,
                )
            )
            bodies.append((messages, at))
        created = Ticket.objects.bulk_create(batch)
        Message.objects.bulk_create(
            (
                Message(
                    ticket=ticket,
                    author_role=AuthorRole.CUSTOMER if i % 2 == 0 else AuthorRole.SUPPORTER,
                    body=body,
                    created_at=at,
                )
                for ticket, (messages, at) in zip(created, bodies, strict=True)
                for i, body in enumerate(messages)
            ),
            batch_size=10_000,
        )
        made += len(batch)
        print(f"  {made} tickets", end="\r", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print()


def bench_supporter() -> Staff:
    now = clock.now()
    sync_staff(
        username="bench",
        display_name="Bench",
        password=PASSWORD,
        role=Role.SUPPORTER,
        active=True,
        email="bench@staff.example",
        now=now,
        by=SYSTEM,
    )
    return Staff.objects.get(username="bench")


def signed_in_browser(supporter: Staff) -> Client:
    """A web session as the sign-in page makes it: password and TOTP."""
    # The bench's supporter has set up their authenticator (no enrolment page in between).
    Staff.objects.filter(pk=supporter.pk).update(otp_confirmed_at=clock.now())
    browser = Client()
    response = browser.post(
        "/staff/login/",
        {
            "username": "bench",
            "password": PASSWORD,
            "otp": pyotp.TOTP(supporter.otp_secret).now(),
        },
    )
    if response.status_code != 302:
        sys.exit(f"staff sign-in failed: {response.status_code}")
    return browser


def timed(client: Client, path: str, requests: int, **headers) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code} {response.content[:300]!r}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a throwaway PostgreSQL database")
    call_command("migrate", verbosity=0)
    if Ticket.objects.exists():
        sys.exit("the database already holds tickets: use a throwaway one")
    supporter = bench_supporter()
    started = time.perf_counter()
    build(args.tickets, supporter)
    print(f"built {args.tickets} tickets in {time.perf_counter() - started:.0f} s")

    token = issue_token(now=clock.now(), hours=12, role=Role.SUPPORTER, staff=supporter).token
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    some_ticket = Ticket.objects.order_by("?").values_list("pk", flat=True).first()
    # A number in another spelling of its case, as supporters type them.
    customer = "k00042"
    common = "server"
    cases = [
        ("floor: GET /api/v1/support/grants", "/api/v1/support/grants", api),
        ("API queue, no search", "/api/v1/support/tickets", api),
        (f"API q={RARE_WORD} (10 tickets)", f"/api/v1/support/tickets?q={RARE_WORD}", api),
        (f"API q={common} (about 1 in 3)", f"/api/v1/support/tickets?q={common}", api),
        ("API q=serv (prefix)", "/api/v1/support/tickets?q=serv", api),
        ("API q=server+update (two words)", "/api/v1/support/tickets?q=server+update", api),
        ("API q=ticket number", f"/api/v1/support/tickets?q=%23{some_ticket}", api),
        ("API q=customer number", f"/api/v1/support/tickets?q={customer}", api),
        ("API q=no match", "/api/v1/support/tickets?q=" + secrets.token_hex(6), api),
        ("API counts, q=server", f"/api/v1/support/ticket-counts?q={common}", api),
    ]
    browser = signed_in_browser(supporter)
    pages = [
        ("web queue + counts, no search", "/support/tickets/?view=all"),
        ("web unclaimed + counts, no search", "/support/tickets/?view=unclaimed"),
        (f"web + counts, q={RARE_WORD}", f"/support/tickets/?view=all&q={RARE_WORD}"),
        (f"web + counts, q={common}", f"/support/tickets/?view=all&q={common}"),
        ("web mine + counts, q=customer", f"/support/tickets/?view=mine&q={customer}"),
        ("web + counts, q=no match", "/support/tickets/?view=all&q=" + secrets.token_hex(6)),
    ]
    print(f"{'request':42} {'median ms':>10} {'p95 ms':>8}")
    for name, path, headers in cases:
        timed(Client(), path, 5, **headers)  # warm up
        median, p95 = timed(Client(), path, args.requests, **headers)
        print(f"{name:42} {median:10.1f} {p95:8.1f}")
    for name, path in pages:
        timed(browser, path, 5)
        median, p95 = timed(browser, path, args.requests)
        print(f"{name:42} {median:10.1f} {p95:8.1f}")
    one, five, fifteen = os.getloadavg()
    print(f"load average (as uptime): {one:.2f} {five:.2f} {fifteen:.2f}")


if __name__ == "__main__":
    main()

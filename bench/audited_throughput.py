"""Measure audited requests against the floor, side by side, on PostgreSQL with pooled connections.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_throughput \\
        SUPPORTPIN_LOG_SIGNING_KEY=… .venv/bin/python bench/audited_throughput.py

One gunicorn (`--workers` x `--threads` gthread, a psycopg pool of `--threads` connections per
process, as docs/deploy.md runs it, with grant events configured so that they are queued) serves
four workloads, which take turns `--rounds` times under `--seconds` of load from `--connections`
keep-alive connections of `wrk`:

- floor: a supporter with no grants asks `GET /api/v1/support/grants` (authentication, one
  indexed query, an empty list): what every request costs.
- decision, repeated: the integration asks `GET /api/v1/decisions` for a supporter with a live
  PIN grant and one of a few products, again and again, as a polling panel does. Such checks
  are logged once per grant, product and 5 minutes, so nearly all of them only read.
- decision, distinct: the same question, but every request names a product not asked about
  before (`--products` products of `--grants` customers whose PINs the supporter redeemed), so
  every request writes its `access_decided` entry.
- redemption: `POST /api/v1/support/pin-redemptions` with a customer number and the PIN that
  customer was issued beforehand (`--pins` customers, each with a fresh PIN); 64 supporters
  take turns, and no PIN is used twice, so every request is a real first redemption with its
  five writes: the PIN, the grant, the `grant.started` event and the customer's e-mail in the
  outbox, and the `pin_redeemed` entry. (A redemption locks its supporter's row, which counts
  their wrong guesses: with only 16 supporters for 16 connections, wrk's connections drift
  until one supporter redeems two PINs at once and one waits, which no supporter does.)

After each turn the script counts the audit entries the turn wrote and fails unless the
distinct decisions and the redemptions wrote one entry per answered request (and the repeated
decisions hardly any); any answer but 2xx fails the run too. It prints each workload's median
requests/second, its ratio to the floor (the median of the ratios of each round, as the
shared machine's load moves both), and the p50/p99 latencies of its median round.
The floor at well over the audited rates shows that `wrk` is not what limits them.

`--against OTHER/src` starts a second gunicorn on another checkout's code (put ahead of the
installed package with PYTHONPATH; same database, so the schemas must match) and runs every turn
on both, alternating, so a change is measured before and after under the same load; give
`--pins` room for both (about twice as many).

Use a throwaway database: the script migrates it and refuses one that already holds staff.
Seeding the PINs takes a while (a real issue for each); the script then runs VACUUM ANALYZE, so
the turns start on the statistics a service in use has. Drop the database afterwards.
"""

import argparse
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management import call_command
from django.db import connection

# floor.py sets up Django (settings, a throwaway SECRET_KEY) and starts gunicorn as deployed.
from floor import free_port, start_server

from supportpin.access.actions import open_support_pin, redeem_pin
from supportpin.accounts.actions import (
    SYSTEM,
    create_api_key,
    issue_token,
    sync_customer,
    sync_staff,
)
from supportpin.accounts.models import Customer, Role, Staff
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.products.models import Product

REDEEMING_SUPPORTERS = 64
REPEATED_PRODUCTS = 4

# Each wrk thread takes every `threads`-th item from `start` on: once each ("once"), or round
# and round ("cycle"). What the threads have taken is reported at the end, so the next turn
# starts after it: a PIN or a product is never used twice. An item is a line of
# method, path, bearer token and body, separated by tabs.
WRK_SCRIPT = """
local items = {}
for line in io.lines("%(items)s") do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Authorization"] = "Bearer " .. token}
    if body == "" then
        body = nil
    else
        headers["Content-Type"] = "application/json"
    end
    table.insert(items, {method, path, headers, body})
end
local mode = "%(mode)s"
local threads = {}
local counter = 1

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    start = tonumber(args[1])
    step = tonumber(args[2])
    taken = 0
end

function request()
    local index = start + (id - 1) + taken * step
    taken = taken + 1
    if mode == "cycle" then
        index = (index - 1) %% #items + 1
    end
    local item = items[index]
    if item == nil then
        return wrk.format("GET", "/all-items-used")
    end
    return wrk.format(item[1], item[2], item[3], item[4])
end

function done(summary, latency, requests)
    local last = -1
    for _, thread in ipairs(threads) do
        local taken = thread:get("taken")
        if taken > 0 then
            last = math.max(last, (thread:get("id") - 1) + (taken - 1) * thread:get("step"))
        end
    end
    io.write(string.format("TAKEN %%d\\n", last + 1))
end
"""


@dataclass
class Workload:
    name: str
    mode: str  # "once" or "cycle"
    items: list[tuple[str, str, str, str]]  # method, path, bearer token, body
    event: Event | None = None  # the entry each request must write, if any
    next_item: int = 1
    # Per server ("this" code, or the `--against` one): each round's rate and p50/p99.
    rps: dict[str, list[float]] = field(default_factory=dict)
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def staff_token(username: str, now) -> str:
    sync_staff(
        username=username,
        display_name=username.capitalize(),
        password=secrets.token_urlsafe(),  # nobody signs in; the token is issued directly
        role=Role.SUPPORTER,
        active=True,
        email=f"{username}@staff.example",
        now=now,
        by=SYSTEM,
    )
    staff = Staff.objects.get(username=username)
    return issue_token(now=now, hours=12, role=Role.SUPPORTER, staff=staff).token


def add_customer(number: str, now) -> Customer:
    sync_customer(
        number=number,
        name="Bench",
        email=f"{number.lower()}@customer.example",
        password=None,
        phone="",
        address=None,
        now=now,
    )
    return Customer.objects.get(pk=number)


def seed(args) -> tuple[str, list[Workload]]:
    """Create the people, grants, products and PINs; return the floor token and the workloads."""
    now = clock.now()
    floor_token = staff_token("floor", now)
    key = create_api_key(name="panel", now=now)

    # The panel's supporter holds PIN grants for `--grants` customers with their products.
    staff_token("panel", now)
    supporter = Staff.objects.get(username="panel")
    per_customer = -(-args.products // args.grants)
    products = []
    for g in range(args.grants):
        customer = add_customer(f"G{g}", now)
        pin = open_support_pin(customer=customer, now=now)
        redeem_pin(supporter=supporter, customer_number=customer.pk, pin=pin.pin, now=now)
        products += [f"g{g}-p{p}" for p in range(per_customer)]
    Product.objects.bulk_create(
        [
            Product(
                id=product,
                customer_id=f"G{product[1:].partition('-')[0]}",
                type="vserver",
                name=product,
                created_at=now,
                updated_at=now,
            )
            for product in products
        ],
        batch_size=5000,
    )
    # Interleaved: consecutive requests ask about different customers' products.
    products.sort(key=lambda product: (int(product.rpartition("p")[2]), product))
    decisions = [
        ("GET", f"/api/v1/decisions?supporter=panel&product={p}", key, "") for p in products
    ]

    tokens = [staff_token(f"redeemer{s}", now) for s in range(REDEEMING_SUPPORTERS)]
    redemptions = []
    for c in range(args.pins):
        pin = open_support_pin(customer=add_customer(f"R{c}", now), now=now).pin
        body = json.dumps({"customer": f"R{c}", "pin": pin})
        token = tokens[c % REDEEMING_SUPPORTERS]
        redemptions.append(("POST", "/api/v1/support/pin-redemptions", token, body))
        if c and c % 2000 == 0:
            print(f"  {c} PINs issued", flush=True)

    return floor_token, [
        Workload("floor", "cycle", [("GET", "/api/v1/support/grants", floor_token, "")]),
        Workload(
            "decision, repeated", "cycle", decisions[:REPEATED_PRODUCTS], Event.ACCESS_DECIDED
        ),
        Workload("decision, distinct", "once", decisions[REPEATED_PRODUCTS:], Event.ACCESS_DECIDED),
        Workload("redemption", "once", redemptions, Event.PIN_REDEEMED),
    ]


def entries(event: Event | None) -> int:
    return AuditEntry.objects.filter(event=event).count() if event else 0


def run_wrk(server: str, port: int, workload: Workload, script: Path, args, seconds: float) -> int:
    """Load a server with one workload; record its rate and latency; return the requests."""
    result = subprocess.run(  # noqa: S603
        [
            str(shutil.which("wrk")),
            f"--connections={args.connections}",
            f"--threads={args.wrk_threads}",
            f"--duration={seconds:.0f}s",
            "--latency",
            f"--script={script}",
            f"http://127.0.0.1:{port}",
            "--",
            str(workload.next_item),
            str(args.wrk_threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"{workload.name}: some requests failed (used up its items?):\n{out}")
    if workload.mode == "once":
        workload.next_item += int(re.search(r"TAKEN (\d+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    workload.rps.setdefault(server, []).append(rps)
    latency = (milliseconds(out, "50%"), milliseconds(out, "99%"))
    workload.latencies.setdefault(server, []).append(latency)
    return requests


def milliseconds(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([0-9.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def check_entries(workload: Workload, requests: int, written: int, args) -> None:
    """Fail unless the turn wrote one entry per request (cut-off requests may add a few)."""
    if workload.event is None:
        return
    if workload.mode == "once" and not requests <= written <= requests + args.connections:
        raise SystemExit(f"{workload.name}: {requests} requests wrote {written} entries")
    if workload.mode == "cycle" and written > 2 * len(workload.items):
        raise SystemExit(f"{workload.name}: {requests} repeated checks wrote {written} entries")


def measure(args, token: str, workloads: list[Workload], scratch: Path) -> list[str]:
    """Run the rounds on this code's server (and the `--against` one); return their names."""
    args.token = token  # start_server waits until the floor answers with it
    env = {
        "SUPPORTPIN_DB_POOL": "1",
        "SUPPORTPIN_DB_POOL_MAX": str(args.threads),
        # Configured, so each redemption queues its grant.started (nobody sends it here).
        "SUPPORTPIN_EVENTS_WEBHOOK_URL": "http://127.0.0.1:9/grant-events",
        "SUPPORTPIN_EVENTS_WEBHOOK_SECRET": secrets.token_hex(16),
    }
    setups = {"this": env}
    if args.against:
        # Ahead of the installed package on gunicorn's path: the other checkout's code.
        setups["against"] = env | {"PYTHONPATH": str(Path(args.against).resolve())}
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    try:
        for name, setup in setups.items():
            port = free_port()
            workdir = scratch / f"server-{name}"
            workdir.mkdir()
            servers[name] = (port, start_server(port, setup, args, workdir))
        scripts = {}
        for w in workloads:
            items = scratch / f"items-{len(scripts)}.tsv"
            items.write_text("".join("\t".join(item) + "\n" for item in w.items))
            scripts[w.name] = scratch / f"wrk-{len(scripts)}.lua"
            scripts[w.name].write_text(WRK_SCRIPT % {"items": items, "mode": w.mode})
        # The repeated decisions' window is logged here, as a polling panel's first check does.
        for name, (port, _server) in servers.items():
            for w in workloads:
                run_wrk(name, port, w, scripts[w.name], args, args.warm_up)
        for w in workloads:
            w.rps.clear()
            w.latencies.clear()
        turns = [(name, w) for w in workloads for name in servers]
        for round_ in range(args.rounds):
            # Every other round backwards, so a machine growing busier hits no workload alone.
            for name, w in turns if round_ % 2 == 0 else turns[::-1]:
                before = entries(w.event)
                requests = run_wrk(name, servers[name][0], w, scripts[w.name], args, args.seconds)
                # The requests wrk cut off are still answered: let them land in this turn.
                time.sleep(1)
                written = entries(w.event) - before
                check_entries(w, requests, written, args)
                print(f"    {name:>7} {w.name:>20}: {w.rps[name][-1]:6.0f} rps", flush=True)
            print(f"  round {round_ + 1}: {load_average()}", flush=True)
    finally:
        for _port, server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    return list(servers)


def load_average() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6, help="load per turn (6)")
    parser.add_argument("--rounds", type=int, default=5, help="turns per workload (5)")
    parser.add_argument("--warm-up", type=float, default=2, help="unmeasured load first (2)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (4)")
    parser.add_argument("--grants", type=int, default=20, help="customers the panel reaches (20)")
    parser.add_argument("--products", type=int, default=40_000, help="their products (40000)")
    parser.add_argument("--pins", type=int, default=12_000, help="PINs to redeem (12000)")
    parser.add_argument(
        "--against",
        metavar="SRC",
        help="also run another checkout's code (its src/ directory) in the same rounds",
    )
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("refusing: set DATABASE_URL to a throwaway PostgreSQL database", file=sys.stderr)
        return 2
    if not shutil.which("wrk"):
        print("refusing: wrk is not installed", file=sys.stderr)
        return 2
    print(f"database: {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if Staff.objects.exists():
        print("refusing: the database is not empty; use a fresh one", file=sys.stderr)
        return 2
    print(f"seeding {args.products} products and {args.pins} PINs ...", flush=True)
    token, workloads = seed(args)
    # Seeding wrote most rows of the database: without this, autovacuum analyses them during
    # the first turns (taking CPU from whichever workload runs then), and until it has, the
    # planner guesses from the empty tables. A service in use has its statistics.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()

    print(
        f"gunicorn {args.workers}x{args.threads} gthread, pool of {args.threads} per process, "
        f"{args.connections} connections (wrk), {args.rounds} rounds of {args.seconds:.0f} s; "
        f"{load_average()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="audited-") as scratch:
        servers = measure(args, token, workloads, Path(scratch))
    for server in servers:
        if args.against:
            print(f"{server} ({args.against if server == 'against' else 'this checkout'}):")
        floor = workloads[0].rps[server]
        for w in workloads:
            rounds = w.rps[server]
            median = statistics.median(rounds)
            # Against the floor of the same round: the load of the shared machine moves both.
            ratio = statistics.median(rps / base for rps, base in zip(rounds, floor, strict=True))
            p50, p99 = w.latencies[server][rounds.index(sorted(rounds)[len(rounds) // 2])]
            each = " ".join(f"{rps:.0f}" for rps in rounds)
            print(
                f"{w.name:>20}: {median:6.0f} requests/second, {ratio:.2f}x floor "
                f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms; rounds {each})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure the floor: requests/second of the cheapest endpoint, setups side by side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_floor \\
        .venv/bin/python bench/floor.py [--compare pool|observability]

The floor is a supporter's `GET /api/v1/support/grants` with no grants: authentication, one
indexed query, an empty list, so what it costs is what every request costs. Use a throwaway
PostgreSQL database: the script migrates it, refuses one that already holds staff, and adds one
supporter and a token. `--compare pool` (the default) sets the pool, as deployed, beside no
pool and persistent connections instead of the pool; `--compare observability` sets request
metrics and the JSON request log off, metrics alone, and both (as deployed). Every server runs
as deployed otherwise: metrics in multiprocess mode (its own `PROMETHEUS_MULTIPROC_DIR`) and its
log lines written to a file. For each setup it starts gunicorn on a free port (`--workers` x
`--threads`, gthread) with that setup's environment and warms it up (a setup with metrics must
count the load on `/metrics` at the end, or the run fails). Then the setups take turns,
`--rounds` times, under `--seconds` of load from `--connections` keep-alive connections (`wrk`
when it is installed, else Python threads, which take a share of the CPU themselves), so a busy
moment on a shared machine hits them all; it prints each setup's median side by side. Drop
the database afterwards.
"""

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from supportpin.accounts.actions import SYSTEM, issue_token, sync_staff  # noqa: E402
from supportpin.accounts.models import Role, Staff  # noqa: E402
from supportpin.lib import clock  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATH = "/api/v1/support/grants"
COMPARISONS = {
    "pool": {
        "pool (default)": {"SUPPORTPIN_DB_POOL": "1"},
        "no pool": {"SUPPORTPIN_DB_POOL": "0"},
        "persistent": {"SUPPORTPIN_DB_POOL": "0", "CONN_MAX_AGE": "600"},
    },
    "observability": {
        "neither": {"SUPPORTPIN_METRICS": "0", "SUPPORTPIN_REQUEST_LOG": "0"},
        "metrics": {"SUPPORTPIN_METRICS": "1", "SUPPORTPIN_REQUEST_LOG": "0"},
        "metrics + log": {"SUPPORTPIN_METRICS": "1", "SUPPORTPIN_REQUEST_LOG": "1"},
    },
}
METRICS_TOKEN = secrets.token_urlsafe()


def supporter_token() -> str:
    now = clock.now()
    sync_staff(
        username="bench",
        display_name="Bench",
        password=secrets.token_urlsafe(),  # nobody signs in; the token is issued directly
        role=Role.SUPPORTER,
        active=True,
        email="bench@staff.example",
        now=now,
        by=SYSTEM,
    )
    staff = Staff.objects.get(username="bench")
    return issue_token(now=now, hours=12, role=Role.SUPPORTER, staff=staff).token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, token: str) -> int:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        client.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
        return client.getresponse().status
    finally:
        client.close()


def start_server(port: int, env: dict[str, str], args, workdir: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "supportpin.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        f"--threads={args.threads}",
        "--worker-class=gthread",
        "--log-level=warning",
    ]
    metrics = workdir / "metrics"
    metrics.mkdir()
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "SUPPORTPIN_METRICS_TOKEN": METRICS_TOKEN,
        **env,
    }
    # Where journald or a log shipper would take the lines from.
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, args.token) == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer {PATH} with 200 within 30 s")


def load_with_wrk(port: int, args, seconds: float) -> float:
    result = subprocess.run(  # noqa: S603
        [
            str(shutil.which("wrk")),
            f"--connections={args.connections}",
            "--threads=2",
            f"--duration={seconds:.0f}s",
            f"--header=Authorization: Bearer {args.token}",
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in result.stdout:
        raise SystemExit(f"some requests failed:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", result.stdout).group(1))


def load_with_threads(port: int, args, seconds: float) -> float:
    counts = [0] * args.connections
    failures = []
    deadline = time.monotonic() + seconds

    def run(index: int) -> None:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {args.token}"}
        while time.monotonic() < deadline:
            client.request("GET", PATH, headers=headers)
            response = client.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
            counts[index] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. status {failures[0]}")
    return sum(counts) / (time.monotonic() - started)


def counted_requests(port: int) -> float:
    """Return how many floor requests the server's /metrics counted, over all its processes."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        text = client.getresponse().read().decode()
    finally:
        client.close()
    line = f'supportpin_http_requests_total{{method="GET",route="{PATH}",status="200"}}'
    return sum(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


def measure(args, setups: dict[str, dict[str, str]]) -> dict[str, list[float]]:
    """Load each setup's server in turn, `--rounds` times, so a busy moment hits them all."""
    load = load_with_wrk if shutil.which("wrk") else load_with_threads
    servers = {}
    with tempfile.TemporaryDirectory(prefix="floor-") as scratch:
        try:
            for name, env in setups.items():
                port = free_port()
                workdir = Path(scratch) / f"server-{len(servers)}"
                workdir.mkdir()
                servers[name] = (port, start_server(port, env, args, workdir))
                load(port, args, args.warm_up)
            results: dict[str, list[float]] = {name: [] for name in setups}
            for _ in range(args.rounds):
                for name, (port, _server) in servers.items():
                    results[name].append(load(port, args, args.seconds))
            for name, (port, _server) in servers.items():
                if setups[name].get("SUPPORTPIN_METRICS", "1") == "1" and not counted_requests(
                    port
                ):
                    raise SystemExit(f"{name}: /metrics counted none of the requests")
            return results
        finally:
            for _port, server in servers.values():
                server.terminate()
                server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="load per round (10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per setup (3)")
    parser.add_argument("--warm-up", type=float, default=3, help="unmeasured load first (3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (4)")
    parser.add_argument(
        "--compare", choices=sorted(COMPARISONS), default="pool", help="setups to compare (pool)"
    )
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("refusing: set DATABASE_URL to a throwaway PostgreSQL database", file=sys.stderr)
        return 2
    print(f"database: {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if Staff.objects.exists():
        print(
            "refusing: the database is not empty; use a fresh throwaway database", file=sys.stderr
        )
        return 2
    args.token = supporter_token()
    connection.close()

    client = "wrk" if shutil.which("wrk") else "Python threads"
    print(
        f"GET {PATH} (empty), gunicorn {args.workers}x{args.threads} gthread, "
        f"{args.connections} connections ({client}), {args.rounds} rounds of {args.seconds:.0f} s"
    )
    for name, rounds in measure(args, COMPARISONS[args.compare]).items():
        each = " ".join(f"{rps:.0f}" for rps in rounds)
        print(f"{name:>16}: {statistics.median(rounds):7.0f} requests/second (median of {each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The multi-node drill: two app nodes and two workers on one PostgreSQL behind nginx, under load
and faults; then the promises are checked (docs/deploy.md, "The multi-node drill").

    make drill                      # or: .venv/bin/python drill/drill.py [--seconds 90]

Needs PostgreSQL (`DATABASE_URL`'s server; default the local one), nginx and Redis on the
machine. It creates the throwaway database `supportpin_drill` (dropped first if it exists) and
empties Redis database 13. Exits non-zero when a promise failed.
"""

import argparse
import functools
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from supportpin.audit.note import Signer

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
REDIS_URL = "redis://127.0.0.1:6379/13"
CUSTOMERS = 24
SUPPORTERS = 6
THROTTLE = "10/5m"
WORKER_KILLS = 1  # the drill kills one worker, once


# --- what the drill records ------------------------------------------------------------------


@dataclass
class Call:
    name: str
    method: str
    status: int  # 0: no answer at all
    started: float
    ended: float


@dataclass
class Record:
    calls: list[Call] = field(default_factory=list)
    races: list[int] = field(default_factory=list)  # winners per redemption race
    guesses: Counter = field(default_factory=Counter)
    wrong_passwords: Counter = field(default_factory=Counter)
    # From SIGKILL to the app node's death: what it had taken (accepted or still in its listen
    # queue) until then dies with it.
    kills: list[tuple[float, float]] = field(default_factory=list)
    restart: tuple[float, float] | None = None  # PostgreSQL restart window
    started: float = 0.0
    lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)


class Receiver(BaseHTTPRequestHandler):
    """The provider's backend: counts each delivery id it gets (product actions, grant events)."""

    deliveries: Counter = Counter()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.deliveries[self.headers["X-SupportPIN-Delivery"]] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


# --- the service -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def database_url() -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return urlunsplit(base._replace(path="/supportpin_drill"))


def recreate_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS supportpin_drill WITH (FORCE)")
        connection.execute("CREATE DATABASE supportpin_drill")


def empty_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


class Process:
    """A service process that a supervisor would restart (systemd: Restart=always)."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], log: Path, port: int | None = None
    ):
        self.name, self.command, self.env, self.log, self.port = name, command, env, log, port
        self.popen = self.start()

    def start(self) -> subprocess.Popen:
        with self.log.open("a") as log:
            # Its own process group: a kill takes gunicorn's master and workers at once, as
            # systemd's KillMode=control-group or a dying machine would.
            return subprocess.Popen(  # noqa: S603 - our own commands
                self.command, env=self.env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )

    def kill_and_restart(self, after: float) -> tuple[float, float]:
        """SIGKILL the process, start it again `after` seconds later; return (killed, dead)."""
        killed = time.time()
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        if self.port is not None:
            # The master is gone, but its workers may still be exiting with the listening
            # socket they inherited: a request reaching it then dies (502). The node is dead
            # when its port refuses connections, as nginx sees it.
            deadline = time.time() + 5
            while time.time() < deadline and accepts_connections(self.port):
                time.sleep(0.01)
        dead = time.time()
        time.sleep(after)
        self.popen = self.start()
        return killed, dead

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()


def nginx_config(folder: Path, port: int, apps: list[int]) -> Path:
    """The nginx block of docs/deploy.md, verbatim but for ports and the certificate."""
    block = re.search(r"```nginx\n(.*?)```", DEPLOY_DOC.read_text(), re.DOTALL)
    if block is None:
        sys.exit("docs/deploy.md has no nginx block")
    text = (
        block[1]
        .replace("server 127.0.0.1:8001", f"server 127.0.0.1:{apps[0]}")
        .replace("server 127.0.0.1:8002", f"server 127.0.0.1:{apps[1]}")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("/etc/ssl/support.example.com/", f"{folder}/")
    )
    subprocess.run(  # noqa: S603
        [
            shutil.which("openssl") or "openssl",
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"),
            "/CN=support.example.com",
            *("-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
    )
    temp_paths = "\n".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = folder / "nginx.conf"
    config.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 2;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'nginx-error.log'};\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp_paths}\n{text}\n}}\n"
    )
    return config


def wait_for(port: int, path: str, *, tls: bool = False, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", path, tls=tls)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"nothing answered {path} on port {port} within {seconds:.0f} s")


TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the drill's own throwaway certificate


def request(port: int, method: str, path: str, *, token=None, body=None, tls=True):
    if tls:
        client = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=TLS)
    else:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": "support.example.com", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        client.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = client.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data.startswith((b"{", b"[")) else None)
    finally:
        client.close()


def _with_token(call, token: str):
    return call(token=token)


# --- the load --------------------------------------------------------------------------------


class Load:
    def __init__(self, port: int, seed: dict, record: Record, until: float):
        self.port, self.seed, self.record, self.until = port, seed, record, until

    def call(self, name: str, method: str, path: str, *, token=None, body=None):
        started = time.time()
        try:
            status, data = request(self.port, method, path, token=token, body=body)
        except OSError:
            status, data = 0, None
        self.record.add(Call(name, method, status, started, time.time()))
        return status, data

    def redemptions(self, index: int) -> None:
        """Customers read their PIN; two supporters race for it; the winner works and leaves."""
        rng = random.Random(index)  # noqa: S311 - load shaping, not security
        racers = ThreadPoolExecutor(2)
        while time.time() < self.until:
            number = rng.choice(self.seed["customers"])
            status, pin = self.call(
                "pin", "GET", "/api/v1/me/support-pin", token=self.seed["customer_tokens"][number]
            )
            if status != 200:
                continue
            pair = rng.sample(self.seed["supporter_tokens"], 2)
            body = {"customer": number, "pin": pin["pin"]}
            redeem = functools.partial(
                self.call, "redeem", "POST", "/api/v1/support/pin-redemptions", body=body
            )
            answers = list(racers.map(functools.partial(_with_token, redeem), pair))
            # 201: a new grant; 200: the racer already held this PIN (an earlier end failed).
            winners = [
                (token, data)
                for token, (status, data) in zip(pair, answers, strict=True)
                if status in (200, 201)
            ]
            with self.record.lock:
                self.record.races.append(len(winners))
            if not winners:
                continue
            token, grant = winners[0]
            product = self.seed["products"][number]
            self.call("product", "GET", f"/api/v1/support/products/{product}", token=token)
            self.call(
                "action",
                "POST",
                f"/api/v1/support/products/{product}/actions",
                token=token,
                body={"action": "restart"},
            )
            self.call("end", "DELETE", f"/api/v1/support/grants/{grant['id']}", token=token)

    def tickets(self, index: int) -> None:
        """Holders answer their tickets; customers write back."""
        rng = random.Random(1000 + index)  # noqa: S311
        while time.time() < self.until:
            ticket, holder, number = rng.choice(self.seed["tickets"])
            self.call(
                "reply",
                "POST",
                f"/api/v1/support/tickets/{ticket}/messages",
                token=self.seed["supporter_tokens"][holder],
                body={"body": "Erledigt."},
            )
            self.call(
                "write",
                "POST",
                f"/api/v1/me/tickets/{ticket}/messages",
                token=self.seed["customer_tokens"][number],
                body={"body": "Danke!"},
            )

    def guesser(self) -> None:
        """One supporter guesses PINs of one customer, on whichever node nginx picks."""
        while time.time() < self.until:
            status, _ = self.call(
                "guess",
                "POST",
                "/api/v1/support/pin-redemptions",
                token=self.seed["guesser_token"],
                body={"customer": self.seed["guessed"], "pin": "000000"},
            )
            with self.record.lock:
                self.record.guesses[status] += 1
            time.sleep(0.3)

    def password_guesser(self) -> None:
        """One client tries wrong passwords for one customer."""
        while time.time() < self.until:
            status, _ = self.call(
                "sign-in",
                "POST",
                "/api/v1/auth/token",
                body={"username": self.seed["attacked"], "password": "wrong"},
            )
            with self.record.lock:
                self.record.wrong_passwords[status] += 1
            time.sleep(0.3)


def seed_data() -> dict:
    """Customers with a product and a claimed ticket each, supporters, tokens (via the actions)."""
    from supportpin.access.actions import claim_ticket
    from supportpin.accounts.actions import SYSTEM, issue_token, sync_customer, sync_staff
    from supportpin.accounts.models import Customer, Role, Staff
    from supportpin.lib import clock
    from supportpin.products.actions import sync_product
    from supportpin.tickets.actions import open_ticket

    now = clock.now()

    def staff(username: str) -> str:
        sync_staff(
            username=username,
            display_name=username.title(),
            password=secrets.token_urlsafe(),
            role=Role.SUPPORTER,
            active=True,
            email="",
            now=now,
            by=SYSTEM,
        )
        who = Staff.objects.get(username=username)
        return issue_token(now=now, hours=2, role=Role.SUPPORTER, staff=who).token

    supporter_tokens = [staff(f"drill{n}") for n in range(SUPPORTERS)]
    seed: dict = {
        "customers": [],
        "customer_tokens": {},
        "products": {},
        "tickets": [],
        "supporter_tokens": supporter_tokens,
    }
    for n in range(CUSTOMERS + 2):
        number = f"D{n:03d}"
        sync_customer(
            number=number,
            name=f"Drill {n}",
            email=f"d{n}@customer.example",
            password=secrets.token_urlsafe(),
            phone="",
            address=None,
            now=now,
        )
        customer = Customer.objects.get(pk=number)
        sync_product(
            product_id=f"gs-{n}",
            customer_number=number,
            type="gameserver",
            name="Drill",
            status="active",
            details={},
            now=now,
        )
        if n >= CUSTOMERS:
            continue
        seed["customers"].append(number)
        seed["products"][number] = f"gs-{n}"
        seed["customer_tokens"][number] = issue_token(
            now=now, hours=2, role="customer", customer=customer
        ).token
        ticket = open_ticket(
            customer=customer,
            subject="Lag",
            message="Hilfe",
            product_ids=[],
            follows_id=None,
            now=now,
        )
        holder = n % SUPPORTERS
        claim_ticket(
            supporter=Staff.objects.get(username=f"drill{holder}"), ticket_id=ticket.pk, now=now
        )
        seed["tickets"].append((ticket.pk, holder, number))
    seed["guesser_token"] = staff("guesser")
    seed["guessed"], seed["attacked"] = f"D{CUSTOMERS:03d}", f"D{CUSTOMERS + 1:03d}"
    return seed


# --- faults ----------------------------------------------------------------------------------


def restart_postgres(record: Record, url: str) -> None:
    """Restart the local cluster (Debian's postgresql-common) that serves `url`, as an upgrade
    or a failover would."""
    port = str(urlsplit(url).port or 5432)
    listing = [shutil.which("pg_lsclusters") or "pg_lsclusters", "--no-header"]
    clusters = subprocess.run(listing, capture_output=True, text=True, check=True)  # noqa: S603
    serving = [line.split()[:2] for line in clusters.stdout.splitlines() if line.split()[2] == port]
    if not serving:
        sys.exit(f"no local cluster listens on port {port}: run with --skip-postgres-restart")
    version, cluster = serving[0]
    ctl = shutil.which("pg_ctlcluster") or "pg_ctlcluster"
    started = time.time()
    command = [ctl, "--skip-systemctl-redirect", version, cluster, "restart"]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    record.restart = (started, time.time())


# --- the checks ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument(
        "--grace",
        type=float,
        default=10,
        help="seconds after PostgreSQL is back that still count as its restart",
    )
    parser.add_argument(
        "--skip-postgres-restart",
        action="store_true",
        help="for a database server that is not a local Debian cluster (pg_ctlcluster)",
    )
    args = parser.parse_args()

    url = database_url()
    recreate_database(url)
    empty_redis()
    folder = Path(tempfile.mkdtemp(prefix="supportpin-drill-"))
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{receiver.server_port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "support.example.com,127.0.0.1",
        "SUPPORTPIN_TLS_PROXY": "1",
        "SUPPORTPIN_TRUSTED_PROXIES": "127.0.0.1",
        "SUPPORTPIN_DB_POOL_MAX": "4",
        "REDIS_URL": REDIS_URL,
        "SUPPORTPIN_SIGN_IN_RATE": THROTTLE,
        # Four slashes: django-environ reads the path of filemail:/// as relative.
        "EMAIL_URL": f"filemail:///{folder / 'mail'}",
        "SUPPORTPIN_ACTION_WEBHOOK_URL": f"{hooks}/actions",
        "SUPPORTPIN_ACTION_WEBHOOK_SECRET": secrets.token_hex(16),
        "SUPPORTPIN_EVENTS_WEBHOOK_URL": f"{hooks}/grants",
        "SUPPORTPIN_EVENTS_WEBHOOK_SECRET": secrets.token_hex(16),
        # A killed worker's lease runs out soon enough for the drill to see its messages sent.
        "SUPPORTPIN_OUTBOX_LEASE_SECONDS": "20",
        "SUPPORTPIN_LOG_SIGNING_KEY": str(Signer.generate("drill.supportpin.invalid/log")),
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed = seed_data()

    apps = [free_port(), free_port()]
    nginx_port = free_port()
    log = folder / "services.log"
    gunicorn = [
        str(BIN / "gunicorn"),
        "supportpin.wsgi:application",
        "--workers=2",
        "--threads=4",
        "--worker-class=gthread",
        "--timeout=30",
        "--log-level=warning",
    ]
    nodes = [
        Process(f"app{i}", [*gunicorn, f"--bind=127.0.0.1:{port}"], env, log, port)
        for i, port in enumerate(apps)
    ]
    workers = [
        Process(f"worker{i}", [str(BIN / "supportpin"), "worker", "--interval", "1"], env, log)
        for i in range(2)
    ]
    for port in apps:
        wait_for(port, "/readyz")
    nginx = Process(
        "nginx",
        [
            shutil.which("nginx") or "/usr/sbin/nginx",
            "-p",
            str(folder),
            "-e",
            str(folder / "nginx-error.log"),
            "-c",
            str(nginx_config(folder, nginx_port, apps)),
        ],
        env,
        log,
    )
    wait_for(nginx_port, "/readyz", tls=True)

    record = Record()
    start = record.started = time.time()
    load = Load(nginx_port, seed, record, until=start + args.seconds)
    threads = [threading.Thread(target=load.redemptions, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=load.tickets, args=(i,)) for i in range(2)]
    threads += [
        threading.Thread(target=load.guesser),
        threading.Thread(target=load.password_guesser),
    ]
    for thread in threads:
        thread.start()

    def at(fraction: float) -> None:
        time.sleep(max(0.0, start + fraction * args.seconds - time.time()))

    at(0.25)
    record.kills.append(nodes[0].kill_and_restart(after=2))
    at(0.45)
    workers[0].kill_and_restart(after=2)
    at(0.65)
    if not args.skip_postgres_restart:
        restart_postgres(record, url)
    for thread in threads:
        thread.join()
    load_seconds = time.time() - start

    drained = drain_outbox()
    for process in (nginx, *nodes, *workers):
        process.stop()
    receiver.shutdown()
    failures = report(record, folder, args, load_seconds, drained, env)
    shutil.rmtree(folder, ignore_errors=True)
    sys.exit(1 if failures else 0)


def drain_outbox(seconds: float = 120) -> bool:
    from django.db import connection

    from supportpin.notify.models import OutboxMessage

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.close()  # PostgreSQL restarted under us
        if not OutboxMessage.objects.filter(sent_at__isnull=True, failed_at__isnull=True).exists():
            return True
        time.sleep(1)
    return False


def report(record: Record, folder: Path, args, load_seconds, drained, env) -> list[str]:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from supportpin.access.models import Grant, PinAttempt
    from supportpin.accounts.models import Staff
    from supportpin.notify.models import Kind, OutboxMessage

    connection.close()
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    restart_from, restart_to = record.restart or (0, 0)
    in_restart = [
        c for c in record.calls if c.ended >= restart_from and c.started <= restart_to + args.grace
    ]
    in_flight_at_kill = [
        c
        for c in record.calls
        if any(c.started <= dead and c.ended >= killed for killed, dead in record.kills)
    ]
    explained = {id(c) for c in in_restart + in_flight_at_kill}
    elsewhere = [c for c in record.calls if id(c) not in explained]

    def errors(calls):
        return [c for c in calls if c.status >= 500 or c.status == 0]

    print(f"\nmulti-node drill: {load_seconds:.0f} s of load, 2 app nodes, 2 workers, nginx, Redis")
    print(
        f"  requests: {len(record.calls)} ({len(record.calls) / load_seconds:.0f}/s); "
        + ", ".join(
            f"{n} {name}" for name, n in Counter(c.name for c in record.calls).most_common()
        )
    )
    print(
        f"  PostgreSQL restart took {restart_to - restart_from:.1f} s; "
        f"{len(errors(in_restart))} of {len(in_restart)} requests in its window "
        f"(+{args.grace:g} s) failed {dict(Counter(c.status for c in errors(in_restart)))}"
    )
    check(
        all(c.status == 503 for c in errors(in_restart)),
        "while PostgreSQL restarted, failures were 503 with Retry-After, never a 500",
    )
    killed = errors(in_flight_at_kill)
    print(
        f"  app node killed: {len(in_flight_at_kill)} requests in flight, {len(killed)} failed "
        f"({', '.join(sorted({f'{c.method} {c.name}' for c in killed})) or 'none'})"
    )
    for call in errors(elsewhere)[:5]:
        print(
            f"    {call.status} {call.method} {call.name} at +{call.started - record.started:.1f} s"
        )
    check(
        not errors(elsewhere),
        f"no 5xx outside those windows ({len(errors(elsewhere))} of {len(elsewhere)})",
    )
    check(all(c.method == "POST" for c in killed), "only POSTs in flight on the killed node failed")

    races = Counter(record.races)
    double = Grant.objects.values("pin").exclude(pin=None).annotate(n=Count("id")).filter(n__gt=1)
    check(
        races[2] == 0 and not double.exists(),
        f"no PIN granted twice ({len(record.races)} races: {races[1]} won once, {races[2]} "
        f"twice, {races[0]} found the PIN gone: another round on that customer ended it)",
    )

    messages = OutboxMessage.objects
    unsent = messages.filter(sent_at__isnull=True).count()
    hooks = messages.filter(kind__in=[Kind.WEBHOOK, Kind.GRANT_EVENT]).count()
    mails = messages.filter(kind=Kind.EMAIL).count()
    received = Receiver.deliveries
    mail_count = sum(p.read_text().count("\nMessage-ID:") for p in (folder / "mail").glob("*.log"))
    check(
        drained and unsent == 0,
        f"every outbox message sent ({messages.count()} messages, {unsent} not)",
    )
    # A worker sends one message at a time. Killed after a send but before it could write the
    # send down, that one message goes out again once its lease runs out: same delivery id,
    # so a receiver drops it. A PostgreSQL restart in that moment costs no repeat: the worker
    # keeps trying to write the send down until the server is back. Anything beyond the
    # killed worker's one would be a real double delivery.
    repeats = sum(n - 1 for n in received.values()) + max(mail_count - mails, 0)
    check(
        len(received) == hooks and mail_count >= mails and repeats <= WORKER_KILLS,
        f"each message delivered, each once but for the killed worker's ({hooks} webhooks "
        f"queued, {len(received)} ids received; {mails} e-mails queued, {mail_count} in the mail "
        f"folder; {repeats} repeats, at most {WORKER_KILLS} allowed)",
    )

    # Seal what the workers had not sealed yet when they stopped, so the whole log is checked.
    command = [str(BIN / "supportpin"), "seal"]
    sealed = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    check(sealed.returncode == 0, f"seal ({sealed.stdout.strip() or sealed.stderr.strip()})")
    command = [str(BIN / "supportpin"), "verifyaudit"]
    verify = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    check(verify.returncode == 0, f"verifyaudit clean ({verify.stdout.strip().splitlines()[-1:]})")

    limit = settings.SUPPORTPIN_SUPPORTER_MAX_FAILURES
    counted = PinAttempt.objects.filter(supporter__username="guesser").count()
    blocked = Staff.objects.get(username="guesser").blocked_at is not None
    check(
        counted == limit and blocked and record.guesses[403] == limit,
        f"guessing limit held: {counted} wrong PINs counted (limit {limit}), "
        f"answers {dict(record.guesses)}",
    )
    allowed = int(THROTTLE.split("/")[0])
    check(
        0 < record.wrong_passwords[401] <= allowed,
        f"sign-in throttle held: {record.wrong_passwords[401]} wrong passwords answered 401 "
        f"(limit {allowed}), answers {dict(record.wrong_passwords)}",
    )
    print(f"\n{'FAILED: ' + '; '.join(failures) if failures else 'all promises held'}")
    return failures


if __name__ == "__main__":
    main()

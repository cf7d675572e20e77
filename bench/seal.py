"""Time the sealer over many access-log entries, then inclusion proofs in the sealed tree.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportpin_bench \\
        .venv/bin/python bench/seal.py --entries 100000

Use a throwaway database: the script migrates it, refuses one that already holds access-log
entries, inserts N entries shaped like product reads (10,000 per INSERT), analyzes the table,
seals them with `audit.actions.seal` (rounds of 10,000 under one checkpoint each) and prints
entries/second; then it times inclusion proofs of random entries, read from the stored tiles
as the API reads them. Drop the database afterwards.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportpin.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")  # a throwaway database
os.environ.setdefault("DEBUG", "1")  # the development log key

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from supportpin.audit.actions import seal  # noqa: E402
from supportpin.audit.models import ActorKind, AuditEntry, Event  # noqa: E402
from supportpin.audit.queries import entry_proof  # noqa: E402
from supportpin.lib import clock  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if AuditEntry.objects.exists():
        sys.exit("the database already holds access-log entries: use a throwaway one")
    now = clock.now()
    for start in range(0, args.entries, 10_000):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                at=now,
                event=Event.PRODUCT_READ,
                actor_kind=ActorKind.SUPPORTER,
                actor=f"Supporter {n % 50:02}",
                customer=f"C-{n % 5000:05}",
                product=f"gs-{n % 9000}",
                basis="pin",
                grant_id=n,
            )
            for n in range(start, min(start + 10_000, args.entries))
        )
    # A table in service has statistics (autovacuum keeps them). Without any, PostgreSQL
    # guesses the unsealed entries few and sorts all of them in each round.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {AuditEntry._meta.db_table}")
    started = time.perf_counter()
    sealed = seal(now=now)
    seconds = time.perf_counter() - started
    print(f"sealed {sealed} entries in {seconds:.2f} s: {sealed / seconds:,.0f} entries/s")
    ids = list(AuditEntry.objects.values_list("id", flat=True))
    entries = AuditEntry.objects.in_bulk(random.sample(ids, min(args.proofs, len(ids))))
    started = time.perf_counter()
    for entry in entries.values():
        entry_proof(entry)
    per_proof = (time.perf_counter() - started) / len(entries) * 1000
    print(f"inclusion proof in a tree of {sealed}: {per_proof:.2f} ms each")


if __name__ == "__main__":
    main()

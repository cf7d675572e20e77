"""Count events for /metrics only once the transaction that made them has committed."""

from django.db import transaction
from prometheus_client import Counter


def count_on_commit(counter: Counter, **labels: str) -> None:
    """Add one to `counter` (with `labels`) when the current transaction commits."""
    child = counter.labels(**labels) if labels else counter
    transaction.on_commit(child.inc)

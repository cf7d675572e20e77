"""The bytes an access-log entry is in the Merkle tree: canonical JSON of everything it says."""

import json
from datetime import UTC, datetime

from supportpin.audit.models import AuditEntry

# The entry's fields a leaf holds, in the order `leaf_from_values` takes them.
LEAF_FIELDS = (
    "id",
    "at",
    "event",
    "actor_kind",
    "actor",
    "customer",
    "product",
    "basis",
    "grant_id",
    "ticket_id",
    "detail",
)


def leaf_bytes(entry: AuditEntry) -> bytes:
    """Return `entry` as canonical JSON (UTF-8, sorted keys, no spaces): its leaf in the tree."""
    return leaf_from_values(*(getattr(entry, name) for name in LEAF_FIELDS))


def leaf_from_values(
    id: int,
    at: datetime,
    event: str,
    actor_kind: str,
    actor: str,
    customer: str,
    product: str,
    basis: str,
    grant_id: int | None,
    ticket_id: int | None,
    detail: dict,
) -> bytes:
    """Return the leaf of the entry with these field values (`LEAF_FIELDS`, in order).

    The sealer reads entries as rows of values, not model objects: building thousands of
    objects costs more than hashing them.
    """
    content = {
        "id": id,
        "at": at.astimezone(UTC).isoformat(),
        "event": event,
        "actor_kind": actor_kind,
        "actor": actor,
        "customer": customer,
        "product": product,
        "basis": basis,
        "grant": grant_id,
        "ticket": ticket_id,
        "detail": detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

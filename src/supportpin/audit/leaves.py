"""The bytes an access-log entry is in the Merkle tree: canonical JSON of everything it says."""

import json
from datetime import UTC

from supportpin.audit.models import AuditEntry


def leaf_bytes(entry: AuditEntry) -> bytes:
    """Return `entry` as canonical JSON (UTF-8, sorted keys, no spaces): its leaf in the tree."""
    content = {
        "id": entry.id,
        "at": entry.at.astimezone(UTC).isoformat(),
        "event": entry.event,
        "actor_kind": entry.actor_kind,
        "actor": entry.actor,
        "customer": entry.customer,
        "product": entry.product,
        "basis": entry.basis,
        "grant": entry.grant_id,
        "ticket": entry.ticket_id,
        "detail": entry.detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

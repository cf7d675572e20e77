"""The bytes an access-log entry is in the Merkle tree: canonical JSON of everything it says."""

import json
from datetime import UTC, datetime
from json.encoder import encode_basestring

from supportpin.audit.models import AuditEntry

# `detail` as canonical JSON; one encoder for every leaf, not one per json.dumps call.
_DETAIL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

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
    objects costs more than hashing them. For the same reason the JSON is put together here,
    keys already in sorted order, each string escaped by the json module's own encoder: this
    is four times faster than json.dumps of a dict, and gives the same bytes.
    """
    return (
        f'{{"actor":{encode_basestring(actor)},"actor_kind":{encode_basestring(actor_kind)},'
        f'"at":"{at.astimezone(UTC).isoformat()}","basis":{encode_basestring(basis)},'
        f'"customer":{encode_basestring(customer)},"detail":{_DETAIL.encode(detail)},'
        f'"event":{encode_basestring(event)},"grant":{_json_int(grant_id)},"id":{int(id)},'
        f'"product":{encode_basestring(product)},"ticket":{_json_int(ticket_id)}}}'
    ).encode()


def _json_int(value: int | None) -> str:
    return "null" if value is None else str(int(value))

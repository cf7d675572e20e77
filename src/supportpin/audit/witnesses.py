"""The log's witnesses (C2SP tlog-witness): each new checkpoint goes to them through the outbox
with a consistency proof from the size each one cosigned last, and their cosignatures are kept."""

import base64
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max

from supportpin.audit.merkle import consistency_proof
from supportpin.audit.models import LogCheckpoint, LogCosignature
from supportpin.audit.note import CosignatureVerifier, NoteError, split_note
from supportpin.audit.queries import latest_checkpoint, tile_reader
from supportpin.notify.actions import queue_for_witness
from supportpin.notify.delivery import WEBHOOK_TIMEOUT_SECONDS, DeliveryError
from supportpin.notify.models import OutboxMessage

# A witness answers with a few signature lines or a size; more than this is not an answer.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Witness:
    """A witness: where it takes checkpoints (its submission prefix) and its cosigning key."""

    url: str
    key: CosignatureVerifier

    @property
    def name(self) -> str:
        return self.key.name


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def configured_witnesses() -> list[Witness]:
    """Return the witnesses of SUPPORTPIN_LOG_WITNESS_URLS and _KEYS; raise if they do not fit."""
    urls, vkeys = settings.SUPPORTPIN_LOG_WITNESS_URLS, settings.SUPPORTPIN_LOG_WITNESS_KEYS
    if len(urls) != len(vkeys):
        raise ImproperlyConfigured(
            f"SUPPORTPIN_LOG_WITNESS_URLS names {len(urls)} witnesses but "
            f"SUPPORTPIN_LOG_WITNESS_KEYS holds {len(vkeys)} keys."
        )
    witnesses: list[Witness] = []
    for url, vkey in zip(urls, vkeys, strict=True):
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"SUPPORTPIN_LOG_WITNESS_URLS: {url!r} is no http(s) URL.")
        try:
            key = CosignatureVerifier.parse(vkey)
        except NoteError as error:
            raise ImproperlyConfigured(
                f"SUPPORTPIN_LOG_WITNESS_KEYS: {vkey!r}: {error}."
            ) from error
        if any(witness.name == key.name for witness in witnesses):
            raise ImproperlyConfigured(
                f"SUPPORTPIN_LOG_WITNESS_KEYS: two witnesses are named {key.name!r}."
            )
        witnesses.append(Witness(url=url.rstrip("/"), key=key))
    return witnesses


def queue_for_witnesses(*, now: datetime) -> None:
    """Queue the log's newest checkpoint for every witness, in the sealer's transaction."""
    for witness in configured_witnesses():
        queue_for_witness(witness=witness.name, now=now)


def submit_checkpoint(message: OutboxMessage, now: datetime) -> None:
    """Send the newest checkpoint to the message's witness and keep the cosignature it returns.

    Raise DeliveryError when the witness refuses the checkpoint or answers without a valid
    cosignature by its configured key: the outbox tries again later, with the then newest one.
    """
    witness = _configured_witness(message.payload["witness"])
    checkpoint = latest_checkpoint()
    if checkpoint is None or checkpoint.cosignatures.filter(witness=witness.name).exists():
        # An earlier message took this checkpoint there already; a witness needs only the newest.
        return
    old = _cosigned_size(witness)
    answer = _add_checkpoint(witness, old, checkpoint)
    known = _tree_size(answer)
    if known is not None and known != old:
        # The witness holds another size than its newest cosignature here says (its record
        # outlived ours, or someone else brought it our checkpoints): prove from that size.
        if known > checkpoint.size:
            raise DeliveryError(
                f"witness {witness.name} has cosigned a tree of {known} entries, but the log's "
                f"newest checkpoint has {checkpoint.size}: the log was cut back"
            )
        answer = _add_checkpoint(witness, known, checkpoint)
    if answer.status != 200:
        raise DeliveryError(f"witness {witness.name} answered {answer.status}: {answer.body!r}")
    _keep_cosignature(witness, checkpoint, answer.body)


def _configured_witness(name: str) -> Witness:
    for witness in configured_witnesses():
        if witness.name == name:
            return witness
    raise DeliveryError(f"no witness named {name!r} is configured any more")


def _cosigned_size(witness: Witness) -> int:
    newest = LogCosignature.objects.filter(witness=witness.name).aggregate(
        size=Max("checkpoint__size")
    )
    return newest["size"] or 0


def _add_checkpoint(witness: Witness, old: int, checkpoint: LogCheckpoint) -> Answer:
    # The body: "old <size>", the consistency proof one base64 hash a line, a blank line, the note.
    proof = consistency_proof(old, checkpoint.size, tile_reader(checkpoint.size)) if old else []
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof), ""]
    body = "".join(f"{line}\n" for line in lines) + checkpoint.note
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked in configuration
        f"{witness.url}/add-checkpoint",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            return Answer(
                response.status,
                response.headers.get_content_type(),
                response.read(MAX_ANSWER_BYTES),
            )
    except urllib.error.HTTPError as error:
        # A refusal (403, 404, 409, 422, …) is an answer to read, not a broken connection.
        with error:
            return Answer(
                error.code, error.headers.get_content_type(), error.read(MAX_ANSWER_BYTES)
            )


def _tree_size(answer: Answer) -> int | None:
    """Return the witness's tree size from a 409 answer, None for any other answer."""
    if answer.status != 409 or answer.content_type != "text/x.tlog.size":
        return None
    text = answer.body.decode("ascii", errors="replace")
    digits = text.removesuffix("\n")
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _keep_cosignature(witness: Witness, checkpoint: LogCheckpoint, body: bytes) -> None:
    # The answer is signature lines; the witness's configured key must have signed one of them,
    # and lines by other keys are ignored (tlog-witness: "MUST ignore ... unknown keys").
    text, _ = split_note(checkpoint.note)
    try:
        answer = body.decode()
        if not answer.endswith("\n"):
            raise NoteError("the answer does not end with a newline")
        cosignature = witness.key.cosignature(text, answer[:-1].split("\n"))
    except (NoteError, UnicodeDecodeError) as error:
        raise DeliveryError(f"witness {witness.name}: unusable cosignature: {error}") from error
    if cosignature is None:
        raise DeliveryError(f"witness {witness.name} sent no cosignature by its key {witness.key}")
    try:
        signed_at = datetime.fromtimestamp(cosignature.timestamp, UTC)
    except (OverflowError, ValueError, OSError) as error:
        raise DeliveryError(f"witness {witness.name}: timestamp beyond the calendar") from error
    LogCosignature.objects.get_or_create(
        checkpoint=checkpoint,
        witness=witness.name,
        defaults={"line": cosignature.line, "signed_at": signed_at},
    )

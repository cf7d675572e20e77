import base64
import binascii
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from supportpin.audit.merkle import leaf_hash, verify_inclusion
from supportpin.audit.note import (
    Checkpoint,
    CosignatureVerifier,
    NoteError,
    Verifier,
    open_note,
    split_note,
)


class Command(BaseCommand):
    help = (
        "Check a downloaded access-log proof offline: the checkpoint is signed by the log's key "
        "and the entry is in its tree; exit non-zero otherwise."
    )
    # Offline: it needs neither the database nor the log's signing key.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="the proof file from 'Nachweis herunterladen'")
        parser.add_argument(
            "--key",
            help="the log's verifier key as the provider publishes it (default: the file's)",
        )
        parser.add_argument(
            "--witness",
            action="append",
            default=[],
            metavar="VKEY",
            help="require a valid cosignature by this witness key (repeat for several)",
        )

    def handle(self, *args, file: str, key: str | None, witness: list[str], **options):
        try:
            document = json.loads(Path(file).read_text(encoding="utf-8"))
            verifier = Verifier.parse(key or document["public_key"])
            text, _signed_by = open_note(document["checkpoint"], [verifier])
            checkpoint = Checkpoint.parse(text)
            _, lines = split_note(document["checkpoint"])
            for vkey in witness:
                if CosignatureVerifier.parse(vkey).cosignature(text, lines) is None:
                    raise NoteError(f"no cosignature by the witness {vkey.split('+')[0]}")
            leaf = base64.b64decode(document["leaf"], validate=True)
            proof = [base64.b64decode(h, validate=True) for h in document["proof"]]
            index = int(document["leaf_index"])
        except NoteError as error:
            # Before ValueError, which it is: a key or checkpoint problem says so.
            raise CommandError(f"the checkpoint or key does not hold: {error}") from error
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as error:
            raise CommandError(f"not a usable proof file: {error}") from error
        if "entry" in document and document["entry"] != json.loads(leaf):
            raise CommandError("the readable entry differs from the proven leaf")
        if not verify_inclusion(
            index=index,
            size=checkpoint.size,
            leaf=leaf_hash(leaf),
            proof=proof,
            root=checkpoint.root_hash,
        ):
            raise CommandError("the entry is NOT in the tree the checkpoint signs")
        entry = json.loads(leaf)
        cosigned = f", cosigned by {len(witness)} witnesses" if witness else ""
        self.stdout.write(
            f"OK: {entry.get('event')} at {entry.get('at')} is entry {index} of "
            f"{checkpoint.size} in {checkpoint.origin}{cosigned}"
        )

"""The access log as a transparency log: appends, the sealer, and verifyaudit against tampering."""

import base64
import hashlib
import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import override_settings

from supportpin.audit.actions import batched_appends, record, seal
from supportpin.audit.models import ActorKind, AuditEntry, Event, LogCheckpoint, LogTile
from supportpin.audit.note import Signer, sign_note
from supportpin.notify.models import Kind, OutboxMessage
from testsupport import START, SupportPinTestCase

SIGNING_KEY = Signer.generate("support.example.com/log")
ROTATED_KEY = Signer.generate("support.example.com/log")
FOREIGN_KEY = Signer.generate("support.example.com/log")


def expected_leaf(entry: AuditEntry) -> bytes:
    """The entry's leaf bytes as API.md defines them, built here, not by the service."""
    fields = {
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
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1's MTH, written out recursively as the RFC states it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:])).digest()


@override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(SIGNING_KEY), SUPPORTPIN_LOG_PUBLIC_KEYS=[])
class LogTestCase(SupportPinTestCase):
    def run_realistic_flow(self) -> None:
        """Issue, redeem, read, act, deactivate: the life of one Support-PIN."""
        token = self.token_for(self.supporter)
        grant = self.redeem(self.current_pin()).json()
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)
        response = self.post("/support/products/gs-1/actions", {"action": "restart"}, token)
        self.assertEqual(response.status_code, 202, response.content)
        self.travel_to(START + timedelta(minutes=5))
        self.assertEqual(self.delete(f"/support/grants/{grant['id']}", token).status_code, 204)

    def entry(self, n: int) -> dict:
        return {
            "event": Event.TICKET_LOCKED,
            "at": START + timedelta(seconds=n),
            "actor_kind": ActorKind.SYSTEM,
            "actor": "Support-PIN",
            "customer": "C-1001",
            "detail": {"n": n, "note": "Grüße"},
        }

    def verifyaudit(self, *args: str) -> tuple[str, str]:
        """Return stdout and stderr of a verifyaudit that passed."""
        out, err = StringIO(), StringIO()
        call_command("verifyaudit", *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def assertBroken(self, *args: str, at: int | None = None) -> str:
        """Assert verifyaudit fails; with `at`, that it names that leaf as the first bad one."""
        err = StringIO()
        with self.assertRaises(CommandError) as failed:
            call_command("verifyaudit", *args, stdout=StringIO(), stderr=err)
        if at is not None:
            self.assertIn(f"broken from leaf {at}:", str(failed.exception))
        return err.getvalue()

    def sealed_entries(self) -> list[AuditEntry]:
        return list(AuditEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index"))

    def keep_checkpoint(self) -> str:
        """Write the newest checkpoint to a file outside the database, as a witness keeps it."""
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "checkpoint.txt"
        path.write_text(LogCheckpoint.objects.order_by("-size").first().note)
        return str(path)


class SealTests(LogTestCase):
    def test_it_appends_without_placing_the_entry_in_the_tree(self):
        entry = record(**self.entry(1))

        self.assertIsNone(AuditEntry.objects.get(pk=entry.pk).leaf_index)
        self.assertFalse(LogCheckpoint.objects.exists())

    def test_it_seals_in_id_order_and_signs_the_root_of_those_leaves(self):
        self.run_realistic_flow()
        ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))

        sealed = seal(now=START + timedelta(minutes=6))

        self.assertEqual(sealed, len(ids))
        entries = self.sealed_entries()
        self.assertEqual([e.id for e in entries], ids)
        self.assertEqual([e.leaf_index for e in entries], list(range(len(ids))))
        checkpoint = LogCheckpoint.objects.get()
        lines = checkpoint.note.split("\n")
        root = merkle_root([expected_leaf(e) for e in entries])
        self.assertEqual(
            lines[:4],
            ["support.example.com/log", str(len(ids)), base64.b64encode(root).decode(), ""],
        )
        self.assertTrue(lines[4].startswith("— support.example.com/log "))
        signature = base64.b64decode(lines[4].split(" ")[2])[4:]
        text = "\n".join(lines[:3]) + "\n"
        SIGNING_KEY.verifier.verify(text.encode(), signature) or self.fail("bad signature")
        self.assertEqual(checkpoint.created_at, START + timedelta(minutes=6))

    def test_it_seals_awkward_text_as_the_canonical_json_api_md_defines(self):
        berlin = timezone(timedelta(hours=1))
        record(
            event=Event.PRODUCT_ACTION,
            at=datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=berlin),
            actor_kind=ActorKind.SUPPORTER,
            actor='O\'Brien "Ops" \\ tab\t nl\n ls\u2028 😀 Grüße',
            customer="C-ÄÖÜ",
            product="",
            basis="ticket",
            ticket_id=2**53 + 1,
            detail={"z": [1, "ä", None], "a": {"y": None, "b": True, "ß": 1.5}, "é": "\x1f"},
        )

        self.assertEqual(seal(now=START), AuditEntry.objects.count())

        root = merkle_root([expected_leaf(e) for e in self.sealed_entries()])
        self.assertEqual(bytes(LogCheckpoint.objects.get().root_hash), root)

    def test_it_seals_nothing_when_the_database_refuses_the_numbering(self):
        seal(now=START)
        size = LogCheckpoint.objects.get().size
        waiting = record(**self.entry(1))
        # Tampering: another row already claims the index the next entry is to get.
        forged = record(**self.entry(2))
        AuditEntry.objects.filter(pk=forged.pk).update(leaf_index=size)

        with self.assertRaises(IntegrityError), transaction.atomic():
            seal(now=START)

        self.assertEqual(LogCheckpoint.objects.count(), 1)
        self.assertIsNone(AuditEntry.objects.get(pk=waiting.pk).leaf_index)

    def test_it_gives_entries_recorded_after_a_seal_the_next_indexes_in_a_new_checkpoint(self):
        record(**self.entry(1))
        first = seal(now=START)
        for n in range(2, 5):
            record(**self.entry(n))

        self.assertEqual(seal(now=START), 3)

        entries = self.sealed_entries()
        self.assertEqual([e.detail.get("n") for e in entries[first - 1 :]], [1, 2, 3, 4])
        sizes = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
        self.assertEqual(sizes, [first, first + 3])
        self.assertIn(f"intact: {first + 3} sealed", self.verifyaudit()[0])

    def test_it_signs_nothing_new_when_nothing_is_unsealed(self):
        seal(now=START)
        checkpoints = LogCheckpoint.objects.count()

        self.assertEqual(seal(now=START), 0)
        self.assertEqual(LogCheckpoint.objects.count(), checkpoints)

    def test_it_seals_a_backlog_in_rounds_with_consistent_checkpoints(self):
        for n in range(40):
            record(**self.entry(n))
        total = AuditEntry.objects.count()

        self.assertEqual(seal(now=START, batch_size=7), total)

        sizes = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
        self.assertEqual(sizes, [*range(7, total, 7), total])
        root = merkle_root([expected_leaf(e) for e in self.sealed_entries()])
        self.assertEqual(bytes(LogCheckpoint.objects.get(size=total).root_hash), root)
        self.verifyaudit()

    def test_it_stores_the_tree_as_tiles_not_one_row_per_hash(self):
        for n in range(300):
            record(**self.entry(n))
        seal(now=START)

        size = AuditEntry.objects.count()
        tiles = {(t.level, t.index): len(bytes(t.data)) // 32 for t in LogTile.objects.all()}
        self.assertEqual(tiles, {(0, 0): 256, (0, 1): size - 256, (1, 0): 1})

    def test_it_seals_what_the_seal_command_finds(self):
        record(**self.entry(1))
        out = StringIO()

        call_command("seal", stdout=out)

        size = AuditEntry.objects.count()
        self.assertEqual(out.getvalue().strip(), f"sealed {size} entries; the log holds {size}")
        self.assertFalse(AuditEntry.objects.filter(leaf_index__isnull=True).exists())


class WorkerSealTests(LogTestCase):
    def run_worker(self) -> None:
        call_command("worker", "--once", stdout=StringIO())

    def unsealed(self) -> int:
        return AuditEntry.objects.filter(leaf_index__isnull=True).count()

    @override_settings(SUPPORTPIN_LOG_SEAL_SECONDS=5)
    def test_it_seals_every_seal_interval(self):
        record(**self.entry(1))
        self.run_worker()
        self.assertEqual(self.unsealed(), 0)

        record(**self.entry(2))
        self.travel_to(START + timedelta(seconds=4, microseconds=999_999))
        self.run_worker()
        self.assertEqual(self.unsealed(), 1)

        self.travel_to(START + timedelta(seconds=5))
        self.run_worker()
        self.assertEqual(self.unsealed(), 0)
        self.verifyaudit()


class VerifyAuditTests(LogTestCase):
    def setUp(self):
        super().setUp()
        self.run_realistic_flow()
        seal(now=START)
        self.first_size = AuditEntry.objects.count()
        for n in range(8):
            record(**self.entry(n))
        seal(now=START)
        self.size = AuditEntry.objects.count()
        self.checkpoint_file = self.keep_checkpoint()

    def middle(self) -> AuditEntry:
        return self.sealed_entries()[self.size // 2]

    def test_it_reports_an_untouched_log_as_intact(self):
        out, err = self.verifyaudit("--checkpoint", self.checkpoint_file)

        self.assertEqual(
            out.strip(),
            f"access log intact: {self.size} sealed entries, 2 checkpoints, 0 not sealed yet",
        )
        self.assertEqual(err, "")

    def test_it_names_the_edited_entry_whatever_field_was_edited(self):
        target = self.middle()
        edits = {
            "at": target.at + timedelta(seconds=1),
            "event": "pin_issued",
            "actor_kind": "customer",
            "actor": "Somebody Else",
            "customer": "C-2002",
            "product": "vs-1",
            "basis": "ticket",
            "grant_id": (target.grant_id or 0) + 1,
            "ticket_id": 7,
            "detail": {"action": "stop"},
        }
        for field, value in edits.items():
            with self.subTest(field=field):
                self.assertNotEqual(getattr(target, field), value)
                with transaction.atomic():
                    AuditEntry.objects.filter(pk=target.pk).update(**{field: value})
                    self.assertBroken(at=target.leaf_index)
                    transaction.set_rollback(True)
                self.verifyaudit()

    def test_it_detects_an_edit_with_the_stored_leaf_hash_rewritten_too(self):
        target = self.middle()
        AuditEntry.objects.filter(pk=target.pk).update(actor="Somebody Else")
        target.refresh_from_db()
        tile = LogTile.objects.get(level=0, index=0)
        data = bytearray(bytes(tile.data))
        forged = hashlib.sha256(b"\x00" + expected_leaf(target)).digest()
        data[target.leaf_index * 32 : (target.leaf_index + 1) * 32] = forged
        LogTile.objects.filter(pk=tile.pk).update(data=bytes(data))

        self.assertIn("do not give the root", self.assertBroken())

    def test_it_detects_a_changed_inner_hash_that_proofs_would_read(self):
        tile = LogTile.objects.get(level=0, index=0)
        inner = bytearray(bytes(tile.inner))
        inner[:32] = hashlib.sha256(b"forged").digest()  # the parent of leaves 0 and 1
        LogTile.objects.filter(pk=tile.pk).update(inner=bytes(inner))

        self.assertIn("inner hashes stored with tile/0/000", self.assertBroken())

    def test_it_detects_the_newest_entry_cut_off(self):
        AuditEntry.objects.filter(leaf_index=self.size - 1).delete()

        self.assertBroken(at=self.size - 1)

    def test_it_detects_the_newest_five_entries_cut_off(self):
        AuditEntry.objects.filter(leaf_index__gte=self.size - 5).delete()

        self.assertBroken(at=self.size - 5)

    def test_it_detects_an_entry_deleted_in_the_middle(self):
        target = self.middle()
        AuditEntry.objects.filter(pk=target.pk).delete()

        self.assertBroken(at=target.leaf_index)

    def test_it_detects_a_forged_entry_inserted_in_the_middle(self):
        target = self.middle()
        for entry in reversed(self.sealed_entries()[target.leaf_index :]):
            AuditEntry.objects.filter(pk=entry.pk).update(leaf_index=entry.leaf_index + 1)
        AuditEntry.objects.create(
            leaf_index=target.leaf_index,
            at=target.at,
            event="product_read",
            actor_kind="supporter",
            actor="Sam S.",
            customer="C-1001",
            product="vs-1",
            basis="pin",
        )

        self.assertBroken(at=target.leaf_index)

    def test_it_detects_two_entries_swapped(self):
        a, b = self.sealed_entries()[3:5]
        AuditEntry.objects.filter(pk=a.pk).update(leaf_index=-1)
        AuditEntry.objects.filter(pk=b.pk).update(leaf_index=a.leaf_index)
        AuditEntry.objects.filter(pk=a.pk).update(leaf_index=b.leaf_index)

        self.assertBroken(at=3)

    def test_it_refuses_a_stored_checkpoint_signed_by_another_key(self):
        newest = LogCheckpoint.objects.get(size=self.size)
        text = newest.note.split("\n\n")[0] + "\n"
        LogCheckpoint.objects.filter(pk=newest.pk).update(note=sign_note(text, FOREIGN_KEY))

        self.assertIn("no valid signature by a known key", self.assertBroken())

    def test_it_refuses_an_outside_checkpoint_signed_by_another_key(self):
        path = Path(self.checkpoint_file)
        path.write_text(sign_note(path.read_text().split("\n\n")[0] + "\n", FOREIGN_KEY))

        self.assertIn("the checkpoint kept outside", self.assertBroken("--checkpoint", str(path)))

    def test_it_accepts_checkpoints_of_a_rotated_key_it_still_lists(self):
        with override_settings(
            SUPPORTPIN_LOG_SIGNING_KEY=str(ROTATED_KEY),
            SUPPORTPIN_LOG_PUBLIC_KEYS=[str(SIGNING_KEY.verifier)],
        ):
            record(**self.entry(99))
            seal(now=START)
            self.verifyaudit("--checkpoint", self.checkpoint_file)
        with override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(ROTATED_KEY)):
            self.assertBroken()

    def test_it_catches_a_rewind_to_an_older_checkpoint_only_with_a_kept_checkpoint(self):
        AuditEntry.objects.filter(leaf_index__gte=self.first_size).delete()
        LogCheckpoint.objects.filter(size__gt=self.first_size).delete()

        self.verifyaudit()
        err = self.assertBroken("--checkpoint", self.checkpoint_file, at=self.first_size)
        self.assertIn(f"covers {self.size} entries", err)

    def test_it_catches_a_wipe_only_with_a_kept_checkpoint(self):
        AuditEntry.objects.all().delete()
        LogCheckpoint.objects.all().delete()
        LogTile.objects.all().delete()

        self.verifyaudit()
        self.assertBroken("--checkpoint", self.checkpoint_file, at=0)

    def test_it_detects_entries_wiped_under_their_checkpoints(self):
        AuditEntry.objects.all().delete()

        self.assertBroken(at=0)

    def test_it_says_why_it_cannot_read_the_checkpoint_file(self):
        with self.assertRaisesMessage(CommandError, "cannot read the checkpoint"):
            call_command(
                "verifyaudit", "--checkpoint", "/nonexistent/checkpoint", stdout=StringIO()
            )


class AuditInTransactionTests(LogTestCase):
    def setUp(self):
        super().setUp()
        self.grant = self.redeem(self.current_pin()).json()
        self.token = self.token_for(self.supporter)

    def test_it_writes_no_entry_when_the_action_fails_after_logging(self):
        before = AuditEntry.objects.count()

        with (
            mock.patch(
                "supportpin.products.actions.queue_webhook", side_effect=RuntimeError("outbox")
            ),
            self.assertLogs("supportpin.api.problems", "ERROR"),
        ):
            response = self.post("/support/products/gs-1/actions", {"action": "stop"}, self.token)

        self.assertEqual(response.status_code, 500)
        self.assertEqual(AuditEntry.objects.count(), before)
        self.assertFalse(AuditEntry.objects.filter(event="product_action").exists())
        log = self.get("/me/access-log", self.token_for(self.customer)).json()
        self.assertNotIn("product_action", [entry["event"] for entry in log])

    def test_it_changes_nothing_when_the_audit_entry_cannot_be_written(self):
        with (
            mock.patch("supportpin.products.actions.record", side_effect=RuntimeError("audit")),
            self.assertLogs("supportpin.api.problems", "ERROR"),
        ):
            response = self.post("/support/products/gs-1/actions", {"action": "stop"}, self.token)

        self.assertEqual(response.status_code, 500)
        self.assertFalse(OutboxMessage.objects.filter(kind=Kind.WEBHOOK).exists())

    def test_it_keeps_the_pin_and_grant_when_the_deactivation_cannot_be_logged(self):
        with (
            mock.patch("supportpin.access.actions.record", side_effect=RuntimeError("audit")),
            self.assertLogs("supportpin.api.problems", "ERROR"),
        ):
            response = self.delete(f"/support/grants/{self.grant['id']}", self.token)

        self.assertEqual(response.status_code, 500)
        self.assertEqual(self.get("/support/products/gs-1", self.token).status_code, 200)
        grants = self.get("/me/grants", self.token_for(self.customer)).json()
        self.assertEqual([g["id"] for g in grants], [self.grant["id"]])


class BatchedAppendTests(LogTestCase):
    """The worker's bulk passes append many entries with one insert."""

    def test_it_writes_the_batch_with_one_insert(self):
        before = AuditEntry.objects.count()
        # savepoint, one INSERT of all entries, release
        with self.assertNumQueries(3), batched_appends():
            for n in range(20):
                record(**self.entry(n))

        self.assertEqual(AuditEntry.objects.count(), before + 20)
        seal(now=START)
        self.verifyaudit()

    def test_it_writes_nothing_when_the_batch_fails(self):
        before = AuditEntry.objects.count()
        with self.assertRaises(RuntimeError), batched_appends():
            record(**self.entry(1))
            raise RuntimeError("the pass failed half-way")

        self.assertEqual(AuditEntry.objects.count(), before)

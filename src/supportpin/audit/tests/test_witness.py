"""Witnesses: each new checkpoint goes to them through the outbox, and their cosignatures are kept
and served. The witness is testsupport/witness.py, a real HTTP tlog-witness written apart."""

import base64
import json
import tempfile
import threading
import unittest
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import TransactionTestCase, override_settings

from supportpin.audit.actions import record, seal
from supportpin.audit.models import (
    ActorKind,
    AuditEntry,
    Event,
    LogCheckpoint,
    LogCosignature,
    LogTile,
)
from supportpin.audit.note import Signer
from supportpin.audit.queries import proof_document
from supportpin.lib import clock
from supportpin.notify.models import Kind, OutboxMessage
from supportpin.notify.outbox import attempt, lease_next, send_due
from testsupport import START, SupportPinTestCase
from testsupport.witness import Submission, TestWitness

SIGNING_KEY = Signer.generate("support.example.com/log")
LOG_VKEY = str(SIGNING_KEY.verifier)


def record_entry(n: int) -> None:
    record(
        event=Event.TICKET_LOCKED,
        at=clock.now(),
        actor_kind=ActorKind.SYSTEM,
        actor="Support-PIN",
        customer="C-1001",
        detail={"n": n},
    )


@override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(SIGNING_KEY), SUPPORTPIN_LOG_PUBLIC_KEYS=[])
class WitnessTestCase(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.witness = self.start_witness()
        self.minutes = 0
        # The personas' entries, sealed before any witness is configured: sizes below count on.
        seal(now=START)
        self.base = LogCheckpoint.objects.get().size

    def start_witness(self, *, name: str = "witness.example/w1", log_vkey: str = LOG_VKEY):
        witness = TestWitness(log_vkey, name=name)
        self.addCleanup(witness.stop)
        return witness

    def use_witnesses(self, *witnesses: TestWitness, keys: list[str] | None = None):
        """Configure the service with `witnesses` (their own keys unless `keys` are given)."""
        settings = override_settings(
            SUPPORTPIN_LOG_WITNESS_URLS=[w.url for w in witnesses],
            SUPPORTPIN_LOG_WITNESS_KEYS=keys if keys is not None else [w.vkey for w in witnesses],
        )
        settings.enable()
        self.addCleanup(settings.disable)

    def later(self, minutes: int = 1):
        """Travel `minutes` on and return the moment."""
        self.minutes += minutes
        moment = START + timedelta(minutes=self.minutes)
        self.travel_to(moment)
        return moment

    def append_and_seal(self, count: int) -> LogCheckpoint:
        """Record `count` entries and seal them; return the new checkpoint."""
        now = self.later()
        for n in range(count):
            record_entry(n)
        seal(now=now)
        return LogCheckpoint.objects.order_by("-size").first()

    def run_worker(self) -> None:
        call_command("worker", "--once", stdout=StringIO())

    def served_checkpoint(self) -> str:
        response = self.client.get("/api/v1/log/checkpoint")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def served_cosignatures(self, witness: TestWitness) -> list[int]:
        """The timestamps of `witness`'s valid cosignatures on the served checkpoint."""
        note = self.served_checkpoint()
        text, _, signatures = note.rpartition("\n\n")
        lines = signatures.removesuffix("\n").split("\n")
        stamps = [witness.verify(text + "\n", line) for line in lines]
        return [stamp for stamp in stamps if stamp is not None]

    def witness_messages(self):
        return OutboxMessage.objects.filter(kind=Kind.WITNESS)

    def wipe_and_reseal(self, *, keep: int, change: bool) -> None:
        """Do what someone rewriting history would: drop the tree, keep `keep` entries after the
        personas' (the first of them changed if `change`), seal anew."""
        LogCheckpoint.objects.all().delete()
        LogTile.objects.all().delete()
        entries = list(AuditEntry.objects.order_by("id").values_list("pk", flat=True))
        AuditEntry.objects.filter(pk__in=entries[self.base + keep :]).delete()
        if change:
            AuditEntry.objects.filter(pk=entries[self.base]).update(detail={"n": "rewritten"})
        AuditEntry.objects.update(leaf_index=None)
        seal(now=self.later())


class CosigningTests(WitnessTestCase):
    def test_it_serves_the_checkpoint_with_the_witness_cosignature_after_the_worker_sends_it(
        self,
    ):
        self.use_witnesses(self.witness)
        self.append_and_seal(3)
        self.assertEqual(self.served_cosignatures(self.witness), [])

        self.run_worker()

        self.assertEqual(
            self.witness.submissions, [Submission(old=0, size=self.base + 3, status=200)]
        )
        now = START + timedelta(minutes=self.minutes)
        self.assertEqual(self.served_cosignatures(self.witness), [int(now.timestamp())])
        note = self.served_checkpoint()
        self.assertEqual(note.split("\n")[:2], ["support.example.com/log", str(self.base + 3)])
        # The log's own signature first, then the witness's.
        self.assertTrue(note.split("\n\n")[1].startswith("— support.example.com/log "))

    def test_it_sends_each_new_checkpoint_with_a_consistency_proof_from_the_last_cosigned(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(3)
        self.run_worker()

        self.append_and_seal(4)
        self.run_worker()

        self.assertEqual(
            self.witness.submissions,
            [
                Submission(old=0, size=self.base + 3, status=200),
                Submission(old=self.base + 3, size=self.base + 7, status=200),
            ],
        )
        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)
        self.assertEqual(self.witness.cosigned["support.example.com/log"][0], self.base + 7)

    def test_it_sends_to_every_witness_and_serves_all_their_cosignatures(self):
        other = self.start_witness(name="witness.example/w2")
        self.use_witnesses(self.witness, other)
        self.append_and_seal(2)

        self.run_worker()

        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)
        self.assertEqual(len(self.served_cosignatures(other)), 1)

    def test_it_ignores_signature_lines_by_keys_it_does_not_know(self):
        self.use_witnesses(self.witness)
        unknown = base64.b64encode(bytes(76)).decode()
        self.witness.extra_lines = [
            f"— witness.example/other {unknown}",
            f"— {self.witness.name} {unknown}",  # same name, another key id
        ]
        self.append_and_seal(1)

        self.run_worker()

        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)
        self.assertEqual(self.served_checkpoint().count("\n— "), 2)

    def test_it_queues_nothing_without_witnesses(self):
        self.append_and_seal(2)

        self.assertFalse(self.witness_messages().exists())
        self.assertEqual(self.served_checkpoint().count("\n— "), 1)


class CoalescingTests(WitnessTestCase):
    def test_it_sends_only_the_newest_of_several_checkpoints_and_that_once(self):
        self.use_witnesses(self.witness)
        for count in (1, 2, 3):
            self.append_and_seal(count)
        self.assertEqual(self.witness_messages().count(), 1)

        self.run_worker()
        self.run_worker()

        self.assertEqual(
            self.witness.submissions, [Submission(old=0, size=self.base + 6, status=200)]
        )
        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)

    def test_a_message_queued_behind_one_in_flight_sends_nothing_more_once_that_one_did(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(1)
        in_flight = lease_next(now=self.later(0))
        # A seal while a worker holds the first message: the new checkpoint gets its own.
        self.append_and_seal(2)
        self.assertEqual(self.witness_messages().count(), 2)

        self.assertTrue(attempt(*in_flight, now=self.later(0)))
        self.run_worker()

        self.assertEqual(
            self.witness.submissions, [Submission(old=0, size=self.base + 3, status=200)]
        )
        self.assertEqual(self.witness_messages().filter(sent_at__isnull=False).count(), 2)


class CatchUpTests(WitnessTestCase):
    def test_it_proves_from_the_size_the_witness_names_when_it_knows_another(self):
        self.use_witnesses(self.witness)
        first = self.append_and_seal(2)
        # The witness saw the log's size 2 through someone else (a monitor, or before the
        # service's own database was restored).
        self.assertEqual(self.witness.add_checkpoint(f"old 0\n\n{first.note}".encode())[0], 200)
        self.append_and_seal(3)

        self.run_worker()

        self.assertEqual(
            self.witness.submissions[1:],
            [
                Submission(old=0, size=self.base + 5, status=409),
                Submission(old=self.base + 2, size=self.base + 5, status=200),
            ],
        )
        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)


class RefusalTests(WitnessTestCase):
    def assertNothingCosigned(self, error: str) -> None:
        self.assertEqual(self.served_cosignatures(self.witness), [])
        message = self.witness_messages().order_by("-pk").first()
        self.assertIsNone(message.sent_at)
        self.assertIn(error, message.last_error)
        self.assertGreater(message.due_at, START + timedelta(minutes=self.minutes))

    def test_the_witness_refuses_a_forked_log_and_nothing_is_stored(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(2)
        self.run_worker()

        self.wipe_and_reseal(keep=2, change=True)
        self.append_and_seal(1)
        self.run_worker()

        self.assertEqual(
            self.witness.submissions[1:],
            [
                Submission(old=0, size=self.base + 3, status=409),
                Submission(old=self.base + 2, size=self.base + 3, status=422),
            ],
        )
        self.assertNothingCosigned("answered 422")

    def test_the_witness_refuses_another_tree_of_the_size_it_cosigned(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(2)
        self.run_worker()

        self.wipe_and_reseal(keep=2, change=True)
        self.run_worker()

        self.assertEqual(
            self.witness.submissions[1:],
            [
                Submission(old=0, size=self.base + 2, status=409),
                Submission(old=self.base + 2, size=self.base + 2, status=409),
            ],
        )
        self.assertNothingCosigned("answered 409")

    def test_it_sends_nothing_once_the_witness_has_seen_more_than_the_log_holds(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(3)
        self.run_worker()

        self.wipe_and_reseal(keep=2, change=False)
        self.run_worker()

        self.assertEqual(
            self.witness.submissions[1:], [Submission(old=0, size=self.base + 2, status=409)]
        )
        self.assertNothingCosigned("the log was cut back")

    def test_a_witness_that_does_not_know_the_log_refuses_it(self):
        stranger = self.start_witness(
            log_vkey=str(Signer.generate("elsewhere.example/log").verifier)
        )
        self.witness = stranger
        self.use_witnesses(stranger)
        self.append_and_seal(1)

        self.run_worker()

        self.assertNothingCosigned("answered 404")

    def test_a_witness_that_trusts_another_key_for_the_origin_refuses_the_checkpoint(self):
        impostor = Signer.generate("support.example.com/log")
        self.witness = self.start_witness(log_vkey=str(impostor.verifier))
        self.use_witnesses(self.witness)
        self.append_and_seal(1)

        self.run_worker()

        self.assertNothingCosigned("answered 403")

    def test_a_cosignature_by_another_key_than_the_configured_one_is_not_stored(self):
        somebody = self.start_witness(name=self.witness.name)
        self.use_witnesses(self.witness, keys=[somebody.vkey])
        self.append_and_seal(1)

        self.run_worker()

        self.assertEqual(
            self.witness.submissions, [Submission(old=0, size=self.base + 1, status=200)]
        )
        self.assertNothingCosigned("no cosignature by its key")

    def test_a_forged_cosignature_is_not_stored(self):
        self.witness.forge = True
        self.use_witnesses(self.witness)
        self.append_and_seal(1)

        self.run_worker()

        self.assertNothingCosigned("invalid cosignature")

    def test_an_answer_that_is_not_signature_lines_is_refused(self):
        self.witness.extra_lines = ["<html>Service Unavailable</html>"]
        self.use_witnesses(self.witness)
        self.append_and_seal(1)

        self.run_worker()

        self.assertNothingCosigned("unusable cosignature: malformed note")

    def test_a_message_for_a_witness_no_longer_configured_fails_without_sending(self):
        self.use_witnesses(self.witness)
        self.append_and_seal(1)
        replacement = self.start_witness(name="witness.example/w2")
        self.use_witnesses(replacement)

        self.run_worker()

        self.assertEqual(self.witness.submissions, [])
        self.assertNothingCosigned("no witness named 'witness.example/w1' is configured")


class WitnessDownTests(WitnessTestCase):
    def test_it_tries_again_later_and_the_witness_then_gets_the_newest_checkpoint(self):
        self.use_witnesses(self.witness)
        self.witness.stop()
        self.append_and_seal(2)
        self.run_worker()
        message = self.witness_messages().get()
        self.assertEqual((message.attempts, message.sent_at), (1, None))

        self.append_and_seal(1)
        self.witness.start()
        self.later(minutes=1)
        self.run_worker()

        self.assertEqual(
            self.witness.submissions, [Submission(old=0, size=self.base + 3, status=200)]
        )
        self.assertEqual(len(self.served_cosignatures(self.witness)), 1)
        self.assertEqual(self.witness_messages().get().attempts, 2)


class OfflineCheckTests(WitnessTestCase):
    def setUp(self):
        super().setUp()
        self.use_witnesses(self.witness)
        self.append_and_seal(3)
        self.run_worker()
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def proof_file(self) -> str:
        path = self.folder / "proof.json"
        entry = AuditEntry.objects.order_by("id").first()
        path.write_text(json.dumps(proof_document(entry)))
        return str(path)

    def test_the_downloaded_proof_carries_the_cosignature_and_verifyproof_can_require_it(self):
        out = StringIO()
        call_command("verifyproof", self.proof_file(), "--witness", self.witness.vkey, stdout=out)

        self.assertIn(f"of {self.base + 3} in support.example.com/log", out.getvalue())
        self.assertIn("cosigned by 1 witnesses", out.getvalue())

    def test_verifyproof_refuses_a_proof_without_the_required_witness(self):
        other = self.start_witness(name="witness.example/w2")

        with self.assertRaisesRegex(CommandError, "no cosignature by the witness"):
            call_command("verifyproof", self.proof_file(), "--witness", other.vkey)

    def test_verifyaudit_takes_a_cosigned_checkpoint_kept_outside(self):
        path = self.folder / "checkpoint.txt"
        path.write_text(self.served_checkpoint())

        out = StringIO()
        call_command("verifyaudit", "--checkpoint", str(path), stdout=out, stderr=StringIO())

        self.assertIn("access log intact", out.getvalue())

    def test_verifyaudit_finds_a_stored_cosignature_that_does_not_verify(self):
        stored = LogCosignature.objects.get()
        prefix, _, encoded = stored.line.rpartition(" ")
        blob = bytearray(base64.b64decode(encoded))
        blob[-1] ^= 1
        stored.line = f"{prefix} {base64.b64encode(blob).decode()}"
        stored.save()

        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("verifyaudit", stdout=StringIO(), stderr=err)

        self.assertIn("witness.example/w1's cosignature: invalid cosignature", err.getvalue())


class WitnessSettingsTests(WitnessTestCase):
    def errors(self) -> list[str]:
        return [e.msg for e in run_checks() if e.id == "audit.E002"]

    def test_it_accepts_witnesses_with_one_key_each(self):
        self.use_witnesses(self.witness)

        self.assertEqual(self.errors(), [])

    def test_it_refuses_urls_and_keys_that_do_not_pair_up(self):
        self.use_witnesses(self.witness, keys=[])

        self.assertEqual(len(self.errors()), 1)
        self.assertIn("1 witnesses", self.errors()[0])

    def test_it_refuses_a_log_key_given_as_witness_key(self):
        self.use_witnesses(self.witness, keys=[LOG_VKEY])

        self.assertIn("key type 1, expected 4", self.errors()[0])

    def test_it_refuses_a_witness_url_that_is_not_http(self):
        with override_settings(
            SUPPORTPIN_LOG_WITNESS_URLS=["ftp://witness.example"],
            SUPPORTPIN_LOG_WITNESS_KEYS=[self.witness.vkey],
        ):
            self.assertIn("no http(s) URL", self.errors()[0])

    def test_it_refuses_two_witnesses_of_one_name(self):
        twin = self.start_witness(name=self.witness.name)

        self.use_witnesses(self.witness, twin)

        self.assertIn("two witnesses are named", self.errors()[0])


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "needs PostgreSQL: SQLite takes one writer at a time (run with DATABASE_URL=postgres://…)",
)
@override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(SIGNING_KEY), SUPPORTPIN_LOG_PUBLIC_KEYS=[])
class QueueRaceTests(TransactionTestCase):
    def test_a_worker_takes_the_waiting_message_only_once_the_new_checkpoint_is_committed(self):
        witness = TestWitness(LOG_VKEY)
        self.addCleanup(witness.stop)
        witnesses = override_settings(
            SUPPORTPIN_LOG_WITNESS_URLS=[witness.url], SUPPORTPIN_LOG_WITNESS_KEYS=[witness.vkey]
        )
        witnesses.enable()
        self.addCleanup(witnesses.disable)
        record_entry(1)
        seal(now=clock.now())
        sealed, commit = threading.Event(), threading.Event()

        def sealer() -> None:
            # A seal whose transaction is still open: its checkpoint is not visible yet.
            try:
                with transaction.atomic():
                    record_entry(2)
                    seal(now=clock.now())
                    sealed.set()
                    commit.wait(10)
            finally:
                connection.close()

        thread = threading.Thread(target=sealer)
        thread.start()
        try:
            self.assertTrue(sealed.wait(10))
            # Had it taken the message now, it would have sent the older checkpoint, and the
            # new one would have had no message of its own.
            self.assertIsNone(lease_next(now=clock.now()))
        finally:
            commit.set()
            thread.join()

        send_due(now=clock.now())

        self.assertEqual(witness.submissions, [Submission(old=0, size=2, status=200)])
        self.assertEqual(OutboxMessage.objects.filter(kind=Kind.WITNESS).count(), 1)

import hashlib
from datetime import timedelta
from io import StringIO
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import transaction

from supportpin.audit.actions import batched_appends, record
from supportpin.audit.models import ActorKind, AuditEntry, AuditHead, Event
from supportpin.audit.verify import verify_chain
from supportpin.notify.models import Kind, OutboxMessage
from testsupport import START, SupportPinTestCase


class AuditChainTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        self.run_realistic_flow()

    def run_realistic_flow(self) -> None:
        """Issue, redeem, read, act, deactivate: the life of one Support-PIN."""
        token = self.token_for(self.supporter)
        grant = self.redeem(self.current_pin()).json()
        self.assertEqual(self.get("/support/products/gs-1", token).status_code, 200)
        response = self.post("/support/products/gs-1/actions", {"action": "restart"}, token)
        self.assertEqual(response.status_code, 202, response.content)
        self.travel_to(START + timedelta(minutes=5))
        self.assertEqual(self.delete(f"/support/grants/{grant['id']}", token).status_code, 204)

    def verifyaudit(self) -> str:
        out, err = StringIO(), StringIO()
        call_command("verifyaudit", stdout=out, stderr=err)
        return out.getvalue()

    def assertChainBroken(self) -> None:
        with self.assertRaises(CommandError):
            call_command("verifyaudit", stdout=StringIO(), stderr=StringIO())

    def middle_entry(self) -> AuditEntry:
        entries = list(AuditEntry.objects.order_by("seq"))
        self.assertGreaterEqual(len(entries), 5)
        return entries[len(entries) // 2]

    def test_it_reports_an_untouched_chain_as_intact(self):
        events = list(AuditEntry.objects.order_by("seq").values_list("event", flat=True))
        self.assertEqual(
            events,
            [
                *["staff_created"] * 3,  # the personas sam, olga and ada
                *["pin_issued", "pin_redeemed", "product_read", "product_action"],
                "pin_deactivated",
            ],
        )

        self.assertIn("intact", self.verifyaudit())

    def test_it_detects_an_edit_of_any_field(self):
        target = self.middle_entry()
        edits = {
            "seq": target.seq + 1000,
            "at": target.at + timedelta(seconds=1),
            "event": "pin_issued",
            "actor_kind": "system",
            "actor": "Somebody Else",
            "customer": "C-2002",
            "product": "vs-1",
            "basis": "ticket",
            "grant_id": (target.grant_id or 0) + 1,
            "ticket_id": 7,
            "detail": {"action": "stop"},
            "prev_hash": "f" * 64,
            "hash": "e" * 64,
        }
        for field, value in edits.items():
            with self.subTest(field=field):
                self.assertNotEqual(getattr(target, field), value)
                with transaction.atomic():
                    AuditEntry.objects.filter(pk=target.pk).update(**{field: value})
                    self.assertChainBroken()
                    transaction.set_rollback(True)
                self.assertIn("intact", self.verifyaudit())

    def test_it_detects_a_deleted_entry_in_the_middle(self):
        AuditEntry.objects.filter(pk=self.middle_entry().pk).delete()

        self.assertChainBroken()

    def test_it_detects_a_deleted_newest_entry(self):
        AuditEntry.objects.order_by("-seq").first().delete()

        self.assertChainBroken()

    def test_it_detects_a_forged_entry_appended_with_the_head_moved_along(self):
        last = AuditEntry.objects.order_by("-seq").first()
        forged = AuditEntry(
            seq=last.seq + 1,
            at=last.at + timedelta(minutes=1),
            event="pin_deactivated",
            actor_kind="customer",
            actor="C-1001",
            customer="C-1001",
            detail={"reason": "revoked"},
            prev_hash=last.hash,
        )
        # The forger knows the format but not the key outside the database.
        forged.hash = hashlib.sha256(f"{forged.seq}{forged.prev_hash}".encode()).hexdigest()
        forged.save()
        AuditHead.objects.filter(pk=1).update(seq=forged.seq, hash=forged.hash)

        self.assertChainBroken()

    def test_it_detects_a_forged_entry_inserted_in_the_middle(self):
        target = self.middle_entry()
        # Make room by shifting the later entries up, newest first to keep seq unique.
        for entry in AuditEntry.objects.filter(seq__gt=target.seq).order_by("-seq"):
            AuditEntry.objects.filter(pk=entry.pk).update(seq=entry.seq + 1)
        AuditEntry.objects.create(
            seq=target.seq + 1,
            at=target.at,
            event="product_read",
            actor_kind="supporter",
            actor="Sam S.",
            customer="C-1001",
            product="vs-1",
            basis="pin",
            grant_id=target.grant_id,
            prev_hash=target.hash,
            hash="a" * 64,
        )
        head = AuditHead.objects.get(pk=1)
        AuditHead.objects.filter(pk=1).update(seq=head.seq + 1)

        self.assertChainBroken()


class AuditInTransactionTests(SupportPinTestCase):
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
        # The head did not move either: the next entry links on and the chain stays intact.
        response = self.post("/support/products/gs-1/actions", {"action": "start"}, self.token)
        self.assertEqual(response.status_code, 202)
        call_command("verifyaudit", stdout=StringIO())

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


class BatchedAppendTests(SupportPinTestCase):
    """The worker's bulk passes append many entries with one head lock and one insert."""

    def entry(self, n: int) -> dict:
        return {
            "event": Event.TICKET_LOCKED,
            "at": START + timedelta(seconds=n),
            "actor_kind": ActorKind.SYSTEM,
            "actor": "Support-PIN",
            "customer": "C-1001",
            "detail": {"n": n},
        }

    def test_it_links_a_batch_into_the_chain_between_single_appends(self):
        before = AuditEntry.objects.count()  # the personas' staff_created entries
        record(**self.entry(0))
        with batched_appends():
            for n in range(1, 6):
                record(**self.entry(n))
        record(**self.entry(6))

        self.assertEqual(
            list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)),
            list(range(1, before + 8)),
        )
        self.assertEqual(verify_chain(), (before + 7, []))

    def test_it_writes_the_batch_with_one_insert(self):
        before = AuditEntry.objects.count()  # the personas' staff_created entries
        # savepoint, head lock, one INSERT of all entries, head update, release
        with self.assertNumQueries(5), batched_appends():
            for n in range(20):
                record(**self.entry(n))

        self.assertEqual(AuditHead.objects.get(pk=1).seq, before + 20)

    def test_it_writes_nothing_when_the_batch_fails(self):
        before = AuditEntry.objects.count()  # the personas' staff_created entries
        with self.assertRaises(RuntimeError), batched_appends():
            record(**self.entry(1))
            raise RuntimeError("the pass failed half-way")

        self.assertEqual(AuditEntry.objects.count(), before)
        record(**self.entry(2))
        self.assertEqual(verify_chain(), (before + 1, []))

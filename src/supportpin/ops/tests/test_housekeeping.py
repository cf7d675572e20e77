from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.core import mail
from django.test import override_settings

from supportpin.accounts.models import SignInLink, Token
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.notify.actions import queue_email, queue_webhook
from supportpin.notify.models import OutboxMessage
from supportpin.notify.outbox import send_due
from supportpin.ops.housekeeping import prune_done_rows
from supportpin.products.models import RepeatedCheck
from testsupport import START, SupportPinTestCase


def at(moment: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-27T{moment}+00:00")


@override_settings(SUPPORTPIN_ACTION_WEBHOOK_URL="", SUPPORTPIN_OUTBOX_KEEP_DAYS=30)
class HousekeepingTests(SupportPinTestCase):
    def prune(self) -> int:
        return prune_done_rows(now=clock.now())

    def test_it_deletes_a_sent_message_after_the_kept_days_and_never_an_unsent_one(self):
        queue_email(to=["admin@provider.example"], subject="sent", body="-", now=clock.now())
        send_due(now=clock.now())
        # No webhook address: this one waits, however old it gets.
        queue_webhook(payload={"event": "product_action"}, now=clock.now())
        self.assertEqual(len(mail.outbox), 1)

        self.travel_to(START + timedelta(days=30))
        self.prune()
        self.assertEqual(OutboxMessage.objects.count(), 2)

        self.travel_to(START + timedelta(days=30, seconds=1))
        self.prune()
        self.assertEqual(list(OutboxMessage.objects.values_list("kind", flat=True)), ["webhook"])

    def test_it_deletes_in_batches_so_no_pass_holds_a_long_lock(self):
        OutboxMessage.objects.bulk_create(
            OutboxMessage(kind="email", payload={}, created_at=START, due_at=START, sent_at=START)
            for _ in range(1001)
        )
        self.travel_to(START + timedelta(days=31))

        self.assertEqual(self.prune(), 1000)
        self.assertEqual(self.prune(), 1)
        self.assertEqual(self.prune(), 0)

    def test_it_deletes_sign_in_links_and_tokens_once_expired_and_keeps_live_ones(self):
        self.post("/customers/C-1001/sign-in-links", {}, self.api_key)  # valid 60 s
        token = self.token_for(self.customer)  # valid 24 h
        self.travel_to(START + timedelta(seconds=61))
        self.prune()
        self.assertFalse(SignInLink.objects.exists())
        self.assertEqual(Token.objects.count(), 1)
        self.assertEqual(self.get("/me/support-pin", token).status_code, 200)

        self.travel_to(START + timedelta(hours=24, seconds=1))
        self.prune()
        self.assertFalse(Token.objects.exists())

    def test_it_keeps_a_polling_panels_check_logged_once_per_window_across_passes(self):
        self.redeem(self.current_pin())

        def decide(moment: str) -> None:
            self.travel_to(at(moment))
            self.prune()
            response = self.get("/decisions?supporter=sam&product=gs-1", self.api_key)
            self.assertTrue(response.json()["allowed"])

        for moment in ("09:00:00", "09:04:59", "09:05:00", "09:09:59", "09:15:00"):
            decide(moment)

        logged = AuditEntry.objects.filter(event=Event.ACCESS_DECIDED).order_by("id")
        self.assertEqual(
            [e.at.strftime("%H:%M:%S") for e in logged], ["09:00:00", "09:05:00", "09:15:00"]
        )
        # Windows over for 10 minutes are gone: 09:00 went at 09:15 (the 09:05 and 09:15 stay).
        self.assertEqual(RepeatedCheck.objects.count(), 2)

    def test_it_deletes_expired_web_sessions(self):
        Session.objects.create(session_key="x" * 32, session_data="", expire_date=START)
        Session.objects.create(
            session_key="y" * 32, session_data="", expire_date=START + timedelta(hours=1)
        )

        self.travel_to(START + timedelta(seconds=1))
        self.prune()

        self.assertEqual(list(Session.objects.values_list("session_key", flat=True)), ["y" * 32])

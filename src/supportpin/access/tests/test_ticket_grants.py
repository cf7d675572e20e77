"""Ticket grants belong to access: a claim opens one, a release ends it, one selector says
whether it is alive, and every listing and decision agrees with it."""

from django.test import override_settings

from supportpin.access.actions import claim_ticket
from supportpin.access.tests.test_concurrency import ConcurrencyTestCase
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib.problems import TicketClaimed
from supportpin.tickets import actions as ticket_actions
from supportpin.tickets.models import Ticket
from supportpin.tickets.tests.test_lifecycle import DAY, SECOND, TicketTestCase
from supportpin.web.tests.browser import WebTestCase
from testsupport import PASSWORD, START, THREADS, in_parallel


class TicketGrantTests(TicketTestCase, WebTestCase):
    def decision(self, product_id: str = "gs-1") -> dict:
        response = self.get(f"/decisions?supporter=sam&product={product_id}", self.api_key)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def grants_seen_by_customer(self) -> list[dict]:
        return self.get("/me/grants", self.token_for(self.customer)).json()

    def test_it_shows_no_grant_of_a_disabled_supporter_anywhere(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.assertEqual([g["basis"] for g in self.grants_seen_by_customer()], ["ticket"])
        self.assertTrue(self.decision()["allowed"])
        supporter_token = self.token_for(self.supporter)
        self.assertEqual(len(self.get("/support/grants", supporter_token).json()), 1)

        disabled = self.put(
            "/staff/sam",
            {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter", "active": False},
            self.api_key,
        )

        self.assertEqual(disabled.status_code, 200, disabled.content)
        self.assertFalse(self.decision()["allowed"])
        self.assertEqual(self.grants_seen_by_customer(), [])
        self.assertEqual(self.get("/support/grants", supporter_token).status_code, 401)
        self.sign_in_customer()
        self.assertNotContains(self.page("/portal/support/"), "Sam S.")

    def test_it_lists_the_same_grants_that_decisions_allow_at_the_auto_close_second(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        deadline = START + 14 * DAY

        for moment, alive in ((deadline - SECOND, True), (deadline, False)):
            with self.subTest(moment=moment):
                self.travel_to(moment)
                mine = self.get("/support/grants", self.token_for(self.supporter)).json()
                self.assertEqual(self.decision()["allowed"], alive)
                self.assertEqual(len(mine), int(alive))
                self.assertEqual(self.grants_seen_by_customer(), mine)

    def test_it_decides_with_the_auto_close_period_in_force(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 8 * DAY)
        self.assertTrue(self.decision()["allowed"])  # 14 days of silence are not over

        # The decision's query is compiled once; a changed period must still count.
        with override_settings(SUPPORTPIN_TICKET_AUTOCLOSE_DAYS=7):
            self.assertFalse(self.decision()["allowed"])
        self.assertTrue(self.decision()["allowed"])

    def test_it_records_the_claim_with_its_grant_and_ends_the_grant_on_release(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        (grant,) = self.grants_seen_by_customer()

        released = self.staff_post(self.supporter, ticket["id"], "release")

        self.assertEqual(released.status_code, 200, released.content)
        claims = AuditEntry.objects.filter(event=Event.TICKET_CLAIMED)
        self.assertEqual(
            [(e.actor, e.basis, e.ticket_id, e.grant_id) for e in claims],
            [("Sam S.", "ticket", ticket["id"], grant["id"])],
        )
        self.assertEqual(self.grants_seen_by_customer(), [])
        self.assertFalse(self.decision()["allowed"])
        self.assertReachesNothing(self.supporter)

    def test_it_keeps_a_ticket_grant_alive_only_while_its_supporter_holds_the_ticket(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        # The helpdesk half alone: the grant row stays, but the ticket has a new holder.
        ticket_actions.release_ticket(staff=self.admin, ticket_id=ticket["id"], now=START)

        self.assertFalse(self.decision()["allowed"])
        self.assertEqual(self.grants_seen_by_customer(), [])
        claimed = self.staff_post(self.other_supporter, ticket["id"], "claim")

        self.assertEqual(claimed.status_code, 200, claimed.content)
        self.assertFalse(self.decision()["allowed"])
        self.assertReachesNothing(self.supporter)
        self.assertReaches(self.other_supporter)
        self.assertEqual(
            [g["supporter"] for g in self.grants_seen_by_customer()],
            [self.other_supporter.display_name],
        )


class TicketClaimRaceTests(ConcurrencyTestCase):
    def test_it_gives_a_ticket_claimed_by_sixteen_at_once_to_exactly_one(self):
        tid = ticket_actions.open_ticket(
            customer=self.customer,
            subject="Hilfe",
            message="Server hängt",
            product_ids=[],
            follows_id=None,
            now=self.now,
        ).pk

        results = in_parallel(
            lambda supporter: claim_ticket(supporter=supporter, ticket_id=tid, now=self.now),
            self.supporters,
        )

        unexpected = [r for r in results if isinstance(r, Exception)]
        unexpected = [r for r in unexpected if not isinstance(r, TicketClaimed)]
        self.assertEqual(unexpected, [])
        winners = [r for r in results if isinstance(r, Ticket)]
        self.assertEqual(len(winners), 1, results)
        self.assertEqual(sum(isinstance(r, TicketClaimed) for r in results), THREADS - 1)
        ticket = Ticket.objects.get(pk=tid)
        self.assertEqual(ticket.assignee_id, winners[0].assignee_id)
        self.assertEqual([g.supporter_id for g in ticket.grants.all()], [ticket.assignee_id])
        self.assertEqual(AuditEntry.objects.filter(event=Event.TICKET_CLAIMED).count(), 1)
        self.assertChainIntact()

"""A ticket from opening to lock, over the HTTP API, with the clock moved to each boundary."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportpin.accounts.models import Customer, Staff
from testsupport import START, SupportPinTestCase, personal_markers, queued_emails

CUSTOMER_MAIL = personal_markers("C-1001")["email"]
SECOND = timedelta(seconds=1)
# Every query that reads a ticket row selects its subject.
TICKET_READ = '"tickets_ticket"."subject"'
DAY = timedelta(days=1)


class TicketTestCase(SupportPinTestCase):
    """Shortcuts for tickets; every call signs in afresh, so they work after any time travel."""

    def open_ticket(self, *, customer: Customer | None = None, **fields) -> dict:
        body = {"subject": "Server hängt", "message": "Mein Gameserver startet nicht.", **fields}
        response = self.post("/me/tickets", body, self.token_for(customer or self.customer))
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def staff_post(self, who: Staff, ticket_id: int, action: str, body=None):
        return self.post(f"/support/tickets/{ticket_id}/{action}", body, self.token_for(who))

    def customer_post(self, ticket_id: int, action: str, body=None, customer=None):
        token = self.token_for(customer or self.customer)
        return self.post(f"/me/tickets/{ticket_id}/{action}", body, token)

    def claim(self, ticket_id: int, who: Staff | None = None) -> dict:
        response = self.staff_post(who or self.supporter, ticket_id, "claim")
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def answer(self, ticket_id: int, who: Staff | None = None, body="Neu gestartet.") -> dict:
        response = self.staff_post(who or self.supporter, ticket_id, "messages", {"body": body})
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def write(self, ticket_id: int, body="Geht wieder nicht.") -> dict:
        response = self.customer_post(ticket_id, "messages", {"body": body})
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()

    def support_view(self, ticket_id: int, who: Staff | None = None) -> dict:
        response = self.get(f"/support/tickets/{ticket_id}", self.token_for(who or self.supporter))
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def customer_view(self, ticket_id: int) -> dict:
        response = self.get(f"/me/tickets/{ticket_id}", self.token_for(self.customer))
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def product_status(self, who: Staff, product_id: str = "gs-1") -> int:
        return self.get(f"/support/products/{product_id}", self.token_for(who)).status_code

    def customer_products(self, who: Staff, number: str = "C-1001"):
        return self.get(f"/support/customers/{number}/products", self.token_for(who))

    def assertReaches(self, who: Staff, product_ids=("gs-1", "vs-1")) -> None:
        for product_id in product_ids:
            self.assertEqual(self.product_status(who, product_id), 200, product_id)
        response = self.customer_products(who)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(sorted(p["id"] for p in response.json()), sorted(product_ids))

    def assertReachesNothing(self, who: Staff) -> None:
        for product_id in ("gs-1", "vs-1"):
            self.assertEqual(self.product_status(who, product_id), 404, product_id)
        self.assertProblem(self.customer_products(who), 404, "not_found")

    def emails_to_customer(self) -> list[dict]:
        return queued_emails(CUSTOMER_MAIL)


class TicketLifecycleTests(TicketTestCase):
    def test_it_opens_a_ticket_with_subject_first_message_and_products(self):
        ticket = self.open_ticket(products=["gs-1"])

        self.assertIsInstance(ticket["id"], int)
        self.assertEqual(ticket["customer"], "C-1001")
        self.assertEqual(ticket["subject"], "Server hängt")
        self.assertEqual(ticket["status"], "open")
        self.assertEqual(ticket["locked"], False)
        self.assertIsNone(ticket["assignee"])
        self.assertEqual(ticket["products"], ["gs-1"])
        self.assertIsNone(ticket["follows"])
        self.assertEqual(
            [(m["author_role"], m["body"]) for m in ticket["messages"]],
            [("customer", "Mein Gameserver startet nicht.")],
        )
        mine = self.get("/me/tickets", self.token_for(self.customer)).json()
        self.assertEqual([t["id"] for t in mine], [ticket["id"]])

    def test_it_lets_every_supporter_read_every_ticket_with_the_customer_number_only(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"], body="Bitte einmal neu starten.")

        for who in (self.supporter, self.other_supporter, self.admin):
            response = self.get(f"/support/tickets/{ticket['id']}", self.token_for(who))
            self.assertEqual(response.status_code, 200, response.content)
            body = response.json()
            self.assertEqual(body["customer"], "C-1001")
            self.assertEqual(body["assignee"], "Sam S.")
            self.assertEqual([m["author"] for m in body["messages"]], ["C-1001", "Sam S."])
            for marker in personal_markers("C-1001").values():
                self.assertNotIn(marker, response.content.decode())
        customer_try = self.get(f"/support/tickets/{ticket['id']}", self.token_for(self.customer))
        self.assertEqual(customer_try.status_code, 403)
        self.assertEqual(self.get(f"/support/tickets/{ticket['id']}").status_code, 401)

    def test_it_gives_the_products_to_the_supporter_who_claims_and_to_nobody_else(self):
        ticket = self.open_ticket()
        self.assertReachesNothing(self.supporter)

        claimed = self.claim(ticket["id"])

        self.assertEqual(claimed["assignee"], "Sam S.")
        self.assertReaches(self.supporter)
        self.assertEqual(self.product_status(self.supporter, "gs-2"), 404)
        self.assertReachesNothing(self.other_supporter)
        self.assertReachesNothing(self.admin)
        self.assertProblem(
            self.staff_post(self.other_supporter, ticket["id"], "claim"), 409, "ticket_claimed"
        )
        self.assertProblem(
            self.staff_post(self.other_supporter, ticket["id"], "messages", {"body": "Hallo"}),
            403,
            "not_assignee",
        )
        for action in ("close", "reopen", "release"):
            response = self.staff_post(self.other_supporter, ticket["id"], action)
            self.assertProblem(response, 403, "not_assignee")
        self.assertEqual(self.support_view(ticket["id"])["status"], "open")
        self.assertEqual(self.support_view(ticket["id"])["assignee"], "Sam S.")
        # Claiming again is harmless for the holder.
        self.assertEqual(self.claim(ticket["id"])["assignee"], "Sam S.")

    def test_it_ends_access_when_the_assignee_releases_and_lets_another_claim(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        released = self.staff_post(self.supporter, ticket["id"], "release")

        self.assertEqual(released.status_code, 200, released.content)
        self.assertIsNone(released.json()["assignee"])
        self.assertReachesNothing(self.supporter)
        self.assertEqual(self.claim(ticket["id"], self.other_supporter)["assignee"], "Olga O.")
        self.assertReaches(self.other_supporter)
        self.assertReachesNothing(self.supporter)

    def test_it_lets_an_admin_release_any_ticket(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        released = self.staff_post(self.admin, ticket["id"], "release")

        self.assertEqual(released.status_code, 200, released.content)
        self.assertIsNone(released.json()["assignee"])
        self.assertReachesNothing(self.supporter)
        self.assertReachesNothing(self.admin)
        self.assertIsNone(self.support_view(ticket["id"])["assignee"])

    def test_it_marks_a_reply_answered_and_emails_the_customer(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        message = self.answer(ticket["id"], body="Der Server läuft wieder.")

        self.assertEqual(message["author_role"], "supporter")
        self.assertEqual(message["author"], "Sam S.")
        self.assertEqual(self.customer_view(ticket["id"])["status"], "answered")
        self.assertEqual(self.support_view(ticket["id"])["status"], "answered")
        conversation = self.customer_view(ticket["id"])["messages"]
        self.assertEqual(conversation[-1]["body"], "Der Server läuft wieder.")
        emails = self.emails_to_customer()
        self.assertEqual(len(emails), 1, emails)
        self.assertIn(f"#{ticket['id']}", emails[0]["subject"])
        self.assertIn("Der Server läuft wieder.", emails[0]["body"])
        self.assertReaches(self.supporter)

    def test_it_ends_access_when_the_assignee_closes_and_refuses_replies_on_it(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        closed = self.staff_post(self.supporter, ticket["id"], "close")

        self.assertEqual(closed.status_code, 200, closed.content)
        self.assertEqual(closed.json()["status"], "closed")
        self.assertEqual(self.customer_view(ticket["id"])["status"], "closed")
        self.assertReachesNothing(self.supporter)
        reply = self.staff_post(self.supporter, ticket["id"], "messages", {"body": "Noch was"})
        self.assertProblem(reply, 409, "ticket_closed")
        self.assertEqual(len(self.customer_view(ticket["id"])["messages"]), 1)
        self.assertEqual(self.emails_to_customer(), [])

    def test_it_refuses_a_claim_of_a_closed_ticket_nobody_holds(self):
        ticket = self.open_ticket()
        closed = self.customer_post(ticket["id"], "close")
        self.assertEqual(closed.json()["status"], "closed")

        response = self.staff_post(self.supporter, ticket["id"], "claim")

        self.assertProblem(response, 409, "ticket_closed")
        self.assertIsNone(self.support_view(ticket["id"])["assignee"])
        self.assertReachesNothing(self.supporter)

    def test_it_reopens_a_closed_ticket_on_a_customer_message_with_access_for_the_assignee(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        self.staff_post(self.supporter, ticket["id"], "close")
        self.assertReachesNothing(self.supporter)

        self.write(ticket["id"], "Das Problem ist zurück.")

        view = self.support_view(ticket["id"])
        self.assertEqual(view["status"], "open")
        self.assertEqual(view["assignee"], "Sam S.")
        self.assertEqual(view["messages"][-1]["body"], "Das Problem ist zurück.")
        self.assertReaches(self.supporter)
        self.assertReachesNothing(self.other_supporter)

    def test_it_sets_an_answered_ticket_waiting_for_support_on_a_customer_message(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])

        self.write(ticket["id"])

        self.assertEqual(self.customer_view(ticket["id"])["status"], "open")

    def test_it_lets_the_customer_close_and_reopen(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])

        closed = self.customer_post(ticket["id"], "close")

        self.assertEqual(closed.status_code, 200, closed.content)
        self.assertEqual(closed.json()["status"], "closed")
        self.assertReachesNothing(self.supporter)

        reopened = self.customer_post(ticket["id"], "reopen")

        self.assertEqual(reopened.status_code, 200, reopened.content)
        self.assertEqual(reopened.json()["status"], "open")
        self.assertEqual(reopened.json()["assignee"], "Sam S.")
        self.assertReaches(self.supporter)

    def test_it_refuses_the_assignee_a_reopen_of_a_ticket_the_customer_closed(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.customer_post(ticket["id"], "close")

        refused = self.staff_post(self.supporter, ticket["id"], "reopen")

        self.assertProblem(refused, 409, "ticket_closed_by_customer")
        self.assertEqual(self.customer_view(ticket["id"])["status"], "closed")
        self.assertReachesNothing(self.supporter)
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])

        self.customer_post(ticket["id"], "reopen")

        self.assertReaches(self.supporter)

    def test_it_lets_the_assignee_reopen_a_ticket_they_closed(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.staff_post(self.supporter, ticket["id"], "close")

        reopened = self.staff_post(self.supporter, ticket["id"], "reopen")

        self.assertEqual(reopened.status_code, 200, reopened.content)
        self.assertEqual(reopened.json()["status"], "open")
        self.assertReaches(self.supporter)


class TicketReadTests(TicketTestCase):
    def test_it_loads_the_ticket_once_for_each_ticket_endpoint(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        staff_token, customer_token = self.token_for(self.supporter), self.token_for(self.customer)
        tid = ticket["id"]
        requests = {
            "supporter's view": lambda: self.get(f"/support/tickets/{tid}", staff_token),
            "customer's view": lambda: self.get(f"/me/tickets/{tid}", customer_token),
            "close": lambda: self.post(f"/support/tickets/{tid}/close", token=staff_token),
            "customer reopen": lambda: self.post(f"/me/tickets/{tid}/reopen", token=customer_token),
        }
        for name, request in requests.items():
            with self.subTest(name), CaptureQueriesContext(connection) as queries:
                response = request()
                self.assertEqual(response.status_code, 200, response.content)
                ticket_reads = [q for q in queries.captured_queries if TICKET_READ in q["sql"]]
                self.assertEqual(len(ticket_reads), 1, ticket_reads)
                self.assertEqual(response.json()["id"], tid)


class TicketTimeTests(TicketTestCase):
    def test_it_keeps_an_answered_ticket_open_for_fourteen_days_after_the_last_reply(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        answered_at = START + timedelta(hours=3)
        self.travel_to(answered_at)
        self.answer(ticket["id"])

        self.travel_to(answered_at + 14 * DAY - SECOND)

        self.assertEqual(self.customer_view(ticket["id"])["status"], "answered")
        self.assertReaches(self.supporter)

        self.travel_to(answered_at + 14 * DAY)

        self.assertEqual(self.customer_view(ticket["id"])["status"], "closed")
        self.assertEqual(self.support_view(ticket["id"])["status"], "closed")
        self.assertReachesNothing(self.supporter)
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        reply = self.staff_post(self.supporter, ticket["id"], "messages", {"body": "Hallo?"})
        self.assertProblem(reply, 409, "ticket_closed")

    def test_it_reopens_an_auto_closed_ticket_on_a_customer_message(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 15 * DAY)
        self.assertReachesNothing(self.supporter)

        self.write(ticket["id"])

        self.assertEqual(self.customer_view(ticket["id"])["status"], "open")
        self.assertReaches(self.supporter)

    def test_it_lets_the_assignee_reopen_an_auto_closed_ticket(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 15 * DAY)

        reopened = self.staff_post(self.supporter, ticket["id"], "reopen")

        self.assertEqual(reopened.status_code, 200, reopened.content)
        self.assertEqual(reopened.json()["status"], "open")
        self.assertReaches(self.supporter)

    def test_it_never_auto_closes_a_ticket_waiting_for_support(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.answer(ticket["id"])
        self.travel_to(START + 2 * DAY)
        self.write(ticket["id"])

        self.travel_to(START + 30 * DAY - SECOND)

        self.assertEqual(self.customer_view(ticket["id"])["status"], "open")
        self.assertEqual(self.support_view(ticket["id"])["status"], "open")
        self.assertReaches(self.supporter)

    def test_it_accepts_every_change_in_the_last_second_before_the_lock(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.travel_to(START + 30 * DAY - SECOND)
        tid = ticket["id"]

        steps = [
            self.staff_post(self.supporter, tid, "messages", {"body": "Antwort"}),
            self.customer_post(tid, "messages", {"body": "Danke"}),
            self.staff_post(self.supporter, tid, "close"),
            self.staff_post(self.supporter, tid, "reopen"),
            self.customer_post(tid, "close"),
            self.customer_post(tid, "reopen"),
            self.staff_post(self.supporter, tid, "release"),
            self.staff_post(self.other_supporter, tid, "claim"),
        ]

        self.assertEqual(
            [r.status_code for r in steps], [201, 201, 200, 200, 200, 200, 200, 200], steps
        )
        view = self.support_view(tid)
        self.assertEqual(
            (view["status"], view["locked"], view["assignee"]), ("open", False, "Olga O.")
        )
        self.assertReaches(self.other_supporter)

    def test_it_locks_a_ticket_thirty_days_after_creation_against_every_change(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.travel_to(START + 20 * DAY)
        self.write(ticket["id"])  # recent activity does not delay the lock
        tid = ticket["id"]

        self.travel_to(START + 30 * DAY)

        view = self.customer_view(tid)
        self.assertEqual(view["locked"], True)
        self.assertReachesNothing(self.supporter)
        self.assertEqual(self.get("/me/grants", self.token_for(self.customer)).json(), [])
        attempts = {
            "customer message": self.customer_post(tid, "messages", {"body": "Hallo?"}),
            "customer close": self.customer_post(tid, "close"),
            "customer reopen": self.customer_post(tid, "reopen"),
            "reply": self.staff_post(self.supporter, tid, "messages", {"body": "Antwort"}),
            "close": self.staff_post(self.supporter, tid, "close"),
            "reopen": self.staff_post(self.supporter, tid, "reopen"),
            "claim by holder": self.staff_post(self.supporter, tid, "claim"),
            "claim by other": self.staff_post(self.other_supporter, tid, "claim"),
            "release": self.staff_post(self.supporter, tid, "release"),
            "admin release": self.staff_post(self.admin, tid, "release"),
        }
        for what, response in attempts.items():
            with self.subTest(what):
                self.assertProblem(response, 409, "ticket_locked")
        after = self.customer_view(tid)
        self.assertEqual(after["messages"], view["messages"])
        self.assertEqual((after["status"], after["assignee"]), ("open", "Sam S."))
        self.assertReachesNothing(self.supporter)

    def test_it_locks_an_unclaimed_closed_ticket_against_claim_and_reopen(self):
        ticket = self.open_ticket()
        self.customer_post(ticket["id"], "close")
        self.travel_to(START + 30 * DAY)

        self.assertProblem(
            self.staff_post(self.supporter, ticket["id"], "claim"), 409, "ticket_locked"
        )
        self.assertProblem(self.customer_post(ticket["id"], "reopen"), 409, "ticket_locked")
        self.assertEqual(self.support_view(ticket["id"])["locked"], True)

    def test_it_opens_a_follow_up_to_a_locked_ticket(self):
        ticket = self.open_ticket(products=["gs-1"])
        self.claim(ticket["id"])
        self.travel_to(START + 30 * DAY)

        follow_up = self.open_ticket(follows=ticket["id"], subject="Immer noch kaputt")

        self.assertEqual(follow_up["follows"], ticket["id"])
        self.assertEqual(follow_up["locked"], False)
        self.assertEqual(follow_up["status"], "open")
        self.assertEqual(self.support_view(follow_up["id"])["follows"], ticket["id"])
        self.assertReachesNothing(self.supporter)
        self.claim(follow_up["id"])
        self.assertReaches(self.supporter)


class TicketGrantTests(TicketTestCase):
    def test_it_shows_the_ticket_grant_to_the_customer_and_refuses_to_revoke_it(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        token = self.token_for(self.customer)

        grants = self.get("/me/grants", token).json()

        self.assertEqual(len(grants), 1, grants)
        grant = grants[0]
        self.assertEqual(
            (grant["basis"], grant["ticket"], grant["until"], grant["supporter"]),
            ("ticket", ticket["id"], None, "Sam S."),
        )
        self.assertEqual(grant["customer"], "C-1001")
        self.assertProblem(self.delete(f"/me/grants/{grant['id']}", token), 409, "ticket_grant")
        self.assertReaches(self.supporter)

        self.customer_post(ticket["id"], "close")

        self.assertEqual(self.get("/me/grants", token).json(), [])

    def test_it_shows_the_customer_who_held_the_ticket_and_what_they_read(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        self.assertEqual(self.product_status(self.supporter, "gs-1"), 200)
        self.staff_post(self.supporter, ticket["id"], "release")

        log = self.get("/me/access-log", self.token_for(self.customer)).json()

        claimed = [e for e in log if e["event"] == "ticket_claimed"]
        self.assertEqual(len(claimed), 1, log)
        self.assertEqual(
            (claimed[0]["actor"], claimed[0]["basis"], claimed[0]["ticket"]),
            ("Sam S.", "ticket", ticket["id"]),
        )
        reads = [e for e in log if e["event"] == "product_read"]
        self.assertEqual(len(reads), 1, log)
        self.assertEqual(
            (reads[0]["actor"], reads[0]["product"], reads[0]["basis"], reads[0]["ticket"]),
            ("Sam S.", "gs-1", "ticket", ticket["id"]),
        )
        events = [e["event"] for e in log]
        self.assertLess(events.index("ticket_released"), events.index("product_read"))
        self.assertLess(events.index("product_read"), events.index("ticket_claimed"))
        other_log = self.get("/me/access-log", self.token_for(self.other_customer)).json()
        self.assertNotIn(ticket["id"], [e["ticket"] for e in other_log])

"""Migration 0003 gives tickets written before it the words of their subject and messages."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from supportpin.tickets.models import Ticket
from supportpin.tickets.search import matching, search_for
from testsupport import START, make_customer

BEFORE = [("tickets", "0002_attachment")]
AFTER = [("tickets", "0003_ticket_search_words")]


class SearchWordsMigrationTests(TransactionTestCase):
    def migrate(self, targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    def tearDown(self):
        self.migrate(executor_leaf_nodes())

    def test_it_collects_the_words_of_tickets_written_before_it(self):
        apps = self.migrate(BEFORE)
        # Only the tickets app went back: the customer is today's.
        make_customer("C-1001", now=START)
        ticket = apps.get_model("tickets", "Ticket").objects.create(
            customer_id="C-1001",
            subject="Drucker offline",
            created_at=START,
            updated_at=START,
            last_message_at=START,
        )
        Message = apps.get_model("tickets", "Message")
        for body in ("Seit heute früh.", "Der Toner ist voll."):
            Message.objects.create(
                ticket=ticket, author_role="customer", body=body, created_at=START
            )

        self.migrate(AFTER)

        for term in ("drucker", "früh", "toner"):
            with self.subTest(term=term):
                found = matching(Ticket.objects.all(), search_for(term))
                self.assertEqual(list(found.values_list("pk", flat=True)), [ticket.pk])


def executor_leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()

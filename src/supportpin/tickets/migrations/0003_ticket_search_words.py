from django.db import migrations

import supportpin.tickets.models
from supportpin.tickets.search import with_words

CREATE_INDEX = "CREATE INDEX ticket_search_idx ON tickets_ticket USING gin (search_words)"


def collect_words(apps, schema_editor):
    """Give every existing ticket the words of its subject and messages, oldest first."""
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    for ticket in Ticket.objects.only("pk", "subject").iterator(chunk_size=1000):
        words = with_words("", ticket.subject)
        bodies = Message.objects.filter(ticket=ticket).order_by("created_at", "pk")
        for body in bodies.values_list("body", flat=True):
            words = with_words(words, body)
        Ticket.objects.filter(pk=ticket.pk).update(search_words=words)


# PostgreSQL picks the plan of a search by how many tickets it expects a word to find: walk the
# queue newest first (right for a common word) or read the index and sort (right for a rare
# one). With the default statistics it tracks only the most common words and guesses every
# other word common enough to walk, which reads the whole table for a rare one (2 s at 100,000
# tickets). Tracking the 100,000 most common words makes every other word count as rare.
WORD_STATISTICS = "ALTER TABLE tickets_ticket ALTER COLUMN search_words SET STATISTICS 10000"


def create_index(apps, schema_editor):
    # SQLite has no tsvector: there the search compares the words with LIKE.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_INDEX)
        schema_editor.execute(WORD_STATISTICS)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX ticket_search_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_attachment"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="search_words",
            field=supportpin.tickets.models.SearchWordsField(default="", editable=False),
        ),
        migrations.RunPython(collect_words, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]

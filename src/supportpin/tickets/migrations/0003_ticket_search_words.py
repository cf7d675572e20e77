from django.db import migrations, models

from supportpin.tickets.search import with_words

# The expression the search compares (tickets.search.WordsMatch): the stored words as they are,
# without a text-search parser or dictionary.
CREATE_INDEX = (
    "CREATE INDEX ticket_search_idx ON tickets_ticket "
    "USING gin (array_to_tsvector(string_to_array(search_words, ' ')))"
)


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


def create_index(apps, schema_editor):
    # SQLite has no tsvector: there the search compares the words with LIKE.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_INDEX)


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
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(collect_words, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]

"""Queue search: the words a ticket is found by, and the filter a supporter's search makes.

A ticket's `search_words` hold the distinct words of its subject and of all its messages,
casefolded, space-separated, kept up to date by the actions that add text. Nothing of the
customer's personal data is ever put there, so a search by a name or an e-mail address finds
a ticket only where the ticket's own text holds those words.

The words are cut out here, in Python, the same way for the ticket and for the search, so
PostgreSQL and SQLite see identical words. PostgreSQL stores them as a tsvector as they are (no
parser, no dictionary; tickets.models.SearchWordsField) with a GIN index (migration 0003);
SQLite keeps the text and compares it with LIKE. On both, every searched word must begin a word
of the ticket.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat

from supportpin.accounts.models import Customer
from supportpin.lib.problems import Invalid
from supportpin.tickets.models import Ticket

# Letters and digits of any script; everything else (punctuation, "_", "-", "@") separates
# words, so "gs-1001" is found by "gs 1001" and "1001".
WORD = re.compile(r"[^\W_]+")
# Longer runs are hashes, base64 or pasted logs; a word is found by its first 64 characters
# (and PostgreSQL refuses lexemes of 2 KB or more).
WORD_LENGTH = 64
# A ticket's words, in characters: a long-running ticket stops collecting new words here,
# far below PostgreSQL's 1 MB limit of a tsvector.
DOCUMENT_LENGTH = 100_000
TERM_LENGTH = 200
TICKET_NUMBER = re.compile(r"#?([0-9]{1,18})")
CUSTOMER_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def words_of(text: str) -> list[str]:
    """Return the words of `text` as a search compares them: casefolded, cut to length."""
    return [word[:WORD_LENGTH] for word in WORD.findall(text.casefold())]


def with_words(document: str, text: str) -> str:
    """Return the search words `document` with the words of `text` it does not hold yet."""
    known = set(document.split())
    words = document.split()
    length = len(document)
    for word in words_of(text):
        if word in known:
            continue
        length += len(word) + (1 if words else 0)
        if length > DOCUMENT_LENGTH:
            break
        known.add(word)
        words.append(word)
    return " ".join(words)


@dataclass(frozen=True)
class Search:
    """A supporter's search: words to find in the text, perhaps a ticket's or customer's number."""

    words: tuple[str, ...]
    ticket_id: int | None
    # The customer's number as stored, when the term is one in any spelling of its case.
    customer_number: str | None


def search_for(term: str) -> Search:
    """Return the search `term` asks for, or raise Invalid (too long, or no letter or digit)."""
    term = term.strip()
    if len(term) > TERM_LENGTH:
        raise Invalid(
            f"Search for at most {TERM_LENGTH} characters.",
            errors=[{"field": "q", "message": "too long"}],
        )
    words = tuple(dict.fromkeys(words_of(term)))
    if not words:
        raise Invalid(
            "Search for at least one letter or digit.",
            errors=[{"field": "q", "message": "no letter or digit"}],
        )
    ticket_number = TICKET_NUMBER.fullmatch(term)
    customer_number = None
    if CUSTOMER_NUMBER.fullmatch(term):
        customers = Customer.objects.numbered(term)
        customer_number = customers.values_list("number", flat=True).first()
    return Search(
        words=words,
        ticket_id=int(ticket_number.group(1)) if ticket_number else None,
        customer_number=customer_number,
    )


class WordsMatch(Func):
    """PostgreSQL: true where the ticket's words begin with every searched word (GIN index)."""

    output_field = BooleanField()

    def __init__(self, words: tuple[str, ...]):
        # Each word is letters and digits only: quoting needs no escapes, and a raw cast to
        # tsquery applies no parser or dictionary, exactly as the stored tsvector.
        query = " & ".join(f"'{word}':*" for word in words)
        super().__init__(F("search_words"), Value(query))

    def as_sql(self, compiler, connection, **extra_context):
        document, document_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        sql = f"{document} @@ CAST({query} AS tsquery)"
        return sql, (*document_params, *query_params)


def matching(tickets: QuerySet[Ticket], search: Search) -> QuerySet[Ticket]:
    """Keep the tickets `search` finds: its words in the subject or any message, its number,
    or every ticket of the customer whose number it is (in any case)."""
    if connection.vendor == "postgresql":
        found = Q(WordsMatch(search.words))
    else:
        # SQLite: a word begins after a space; the leading space makes the first one alike.
        spaced = Concat(Value(" "), F("search_words"), output_field=TextField())
        tickets = tickets.alias(spaced_words=spaced)
        found = Q()
        for word in search.words:
            found &= Q(spaced_words__contains=f" {word}")
    if search.ticket_id is not None:
        found |= Q(pk=search.ticket_id)
    if search.customer_number is not None:
        found |= Q(customer_id=search.customer_number)
    return tickets.filter(found)

"""Queries compiled to SQL once and run again with each call's values.

Django builds and compiles a queryset on every evaluation; for a query with joins and
subqueries that costs several times what the database needs to answer it. A prepared query is
built once with `Param`s where the values go, compiled once per thread and database (and again
after a settings change), and then only run with the values bound to its placeholders.

On PostgreSQL with `SUPPORTPIN_DB_PREPARE` the server prepares it too: psycopg sends it as a
named statement, planned once per connection, where every other statement is planned again on
each run. Planning a lock with a subquery and a join took the server longer than running it.
"""

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Expression, Field, Model, QuerySet

M = TypeVar("M", bound=Model)


class Param(Expression):
    """Where a prepared query takes the value named `name`; `param - timedelta` takes it less
    that much (a cut-off such as "14 days before now"), computed in Python as before."""

    def __init__(self, name: str, output_field: Field, offset: timedelta = timedelta(0)):
        super().__init__(output_field=output_field)
        self.name = name
        self.offset = offset

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, timedelta):
            return Param(self.name, self.output_field, self.offset - other)
        return super().__sub__(other)

    def as_sql(self, compiler, connection):
        # The placeholder's parameter is the Param itself, replaced by its value on each run.
        return "%s", [self]

    def bind(self, values: Mapping[str, Any], connection) -> Any:
        value = values[self.name]
        if self.offset:
            value = value + self.offset
        return self.output_field.get_db_prep_value(value, connection)


class PreparedQuery(Generic[M]):
    """A queryset built once by `build` (with `Param`s for the values) and run as raw SQL.

    Rows come back as instances of the queryset's model; its annotations become attributes
    (without conversion: use them for plain values). No `select_related`: read a related
    row's fields along as annotations. A locking query (`select_for_update`) must run inside a
    transaction every time: Django checks that only when it compiles, on the first run.
    """

    def __init__(self, build: Callable[[], QuerySet[M]]):
        self.build = build
        self._compiled = threading.local()
        _prepared.add(self)

    def run(self, values: Mapping[str, Any], *, using: str = "default") -> list[M]:
        """Return the query's rows for `values` (one for each `Param` name)."""
        connection = connections[using]
        cache = self._compiled.__dict__
        if using not in cache:
            queryset = self.build()
            sql, params = queryset.query.get_compiler(using=using).as_sql()
            cache[using] = (queryset.model, sql, params)
        model, sql, params = cache[using]
        bound = [p.bind(values, connection) if isinstance(p, Param) else p for p in params]
        with _prepared_on_server(connection):
            return list(model._default_manager.raw(sql, bound).using(using))

    def first(self, values: Mapping[str, Any], *, using: str = "default") -> M | None:
        """Return the query's first row for `values`, or None when it has none."""
        rows = self.run(values, using=using)
        return rows[0] if rows else None

    def forget(self) -> None:
        """Compile again on the next run, in every thread."""
        self._compiled = threading.local()


@contextmanager
def _prepared_on_server(connection) -> Iterator[None]:
    """Have psycopg prepare the statements run within on the server, at their first run."""
    if connection.vendor != "postgresql" or not settings.SUPPORTPIN_DB_PREPARE:
        yield
        return
    connection.ensure_connection()
    # Django turns psycopg's preparing off for the connection (None); 0 prepares a statement
    # at once, and psycopg keeps the statements it named with the connection, in the pool too.
    psycopg_connection = connection.connection
    before = psycopg_connection.prepare_threshold
    psycopg_connection.prepare_threshold = 0
    try:
        yield
    finally:
        psycopg_connection.prepare_threshold = before


# A setting a query was built from (say, the days until a ticket closes by itself) may change
# in tests: every prepared query is built again. Weak: a query nobody holds is not kept alive.
_prepared: weakref.WeakSet[PreparedQuery[Any]] = weakref.WeakSet()


def _forget_all(**_kwargs) -> None:
    for query in _prepared:
        query.forget()


setting_changed.connect(_forget_all)

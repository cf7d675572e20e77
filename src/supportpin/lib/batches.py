"""Rows created within a block, inserted together at its end."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models, transaction


class InsertBatch:
    """Collect the rows of one model that a block creates and insert them with one INSERT."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self._local = threading.local()

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Within one transaction, collect the rows `add` takes; insert them at the end.

        Nothing is inserted if the block raises.
        """
        with transaction.atomic():
            rows: list[models.Model] = []
            self._local.rows = rows
            try:
                yield
            finally:
                self._local.rows = None
            if rows:
                self.model._default_manager.bulk_create(rows)

    def add(self, row: models.Model) -> bool:
        """Take `row` into the batch being collected; False when none is (save it yourself)."""
        rows = getattr(self._local, "rows", None)
        if rows is None:
            return False
        rows.append(row)
        return True

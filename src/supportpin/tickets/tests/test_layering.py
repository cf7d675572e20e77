"""The helpdesk stands on its own: nothing in tickets/ reaches up into access/."""

import ast
from pathlib import Path

from django.test import SimpleTestCase

TICKETS = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


class TicketLayeringTests(SimpleTestCase):
    def test_it_keeps_every_ticket_module_free_of_access_imports(self):
        sources = sorted(TICKETS.rglob("*.py"))
        self.assertIn(TICKETS / "actions.py", sources)

        upward = {
            str(path.relative_to(TICKETS)): sorted(
                m for m in imported_modules(path) if m.split(".")[:2] == ["supportpin", "access"]
            )
            for path in sources
        }

        self.assertEqual({path: mods for path, mods in upward.items() if mods}, {})

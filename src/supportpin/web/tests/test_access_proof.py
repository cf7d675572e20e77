"""'Who had access?' shows how far the log is sealed and hands out proofs that check offline."""

import json
import re
import subprocess
import sys
import tempfile
from datetime import timedelta
from io import StringIO
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import override_settings

from supportpin.audit.actions import seal
from supportpin.audit.models import AuditEntry
from supportpin.audit.note import Signer
from supportpin.web.tests.browser import WebTestCase
from testsupport import START

SIGNING_KEY = Signer.generate("support.example.com/log")
VERIFY_DOC = Path(__file__).resolve().parents[4] / "docs" / "verify.md"


@override_settings(SUPPORTPIN_LOG_SIGNING_KEY=str(SIGNING_KEY), SUPPORTPIN_LOG_PUBLIC_KEYS=[])
class AccessProofTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.redeem(self.current_pin())
        self.get("/support/products/gs-1", self.token_for(self.supporter))
        self.travel_to(START + timedelta(minutes=3))
        seal(now=START + timedelta(minutes=3))
        self.sign_in_customer()
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)

    def proof_links(self) -> list[str]:
        html = self.page("/portal/access/").content.decode()
        return re.findall(r'href="(/portal/access/\d+/proof)" download', html)

    def download(self) -> Path:
        read = AuditEntry.objects.get(event="product_read", customer="C-1001")
        response = self.client.get(f"/portal/access/{read.pk}/proof")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response["Content-Disposition"])
        path = self.folder / "proof.json"
        path.write_bytes(response.content)
        return path

    def verifyproof(self, path: Path, *args: str) -> str:
        out = StringIO()
        call_command("verifyproof", str(path), *args, stdout=out)
        return out.getvalue()

    def test_it_shows_how_far_the_log_is_sealed(self):
        html = self.page("/portal/access/").content.decode()

        status = re.search(r'data-testid="sealed-up-to">([^<]*)<', html)[1]
        self.assertTrue(status.startswith("Sealed up to"), status)
        self.assertIn("2026", status)

    def test_it_speaks_german_on_the_seal_and_the_proof(self):
        self.client.cookies["django_language"] = "de"

        html = self.page("/portal/access/").content.decode()

        self.assertIn("Versiegelt bis", html)
        self.assertIn("Nachweis herunterladen", html)

    def test_it_offers_a_proof_for_sealed_entries_only(self):
        sealed = len(self.proof_links())
        self.assertEqual(sealed, AuditEntry.objects.filter(customer="C-1001").count())

        self.get("/support/products/vs-1", self.token_for(self.supporter))

        self.assertEqual(len(self.proof_links()), sealed)
        self.assertIn("being sealed", self.page("/portal/access/").content.decode())

    def test_it_downloads_a_proof_that_verifyproof_accepts(self):
        document = json.loads(self.download().read_text())

        self.assertEqual(document["entry"]["event"], "product_read")
        self.assertEqual(document["public_key"], str(SIGNING_KEY.verifier))
        output = self.verifyproof(self.download(), "--key", str(SIGNING_KEY.verifier))
        self.assertTrue(output.startswith("OK: product_read at "), output)

    def test_it_refuses_a_forged_or_foreign_proof(self):
        path = self.download()
        document = json.loads(path.read_text())
        other = Signer.generate("support.example.com/log")
        forged = dict(document, entry=dict(document["entry"], actor="Somebody Else"))
        cases = {
            "edited readable entry": (forged, []),
            "proof cut short": (dict(document, proof=document["proof"][:-1]), []),
            "another index": (dict(document, leaf_index=document["leaf_index"] + 1), []),
            "someone else's key": (document, ["--key", str(other.verifier)]),
        }
        for name, (content, args) in cases.items():
            with self.subTest(name):
                path.write_text(json.dumps(content))
                with self.assertRaises(CommandError):
                    self.verifyproof(path, *args)

    def test_it_refuses_another_customers_entry(self):
        theirs = AuditEntry.objects.create(
            at=START,
            event="product_read",
            actor_kind="supporter",
            actor="Sam S.",
            customer="C-2002",
            product="gs-2",
        )
        seal(now=START)

        self.page(f"/portal/access/{theirs.pk}/proof", status=404)

    def test_it_says_when_the_entry_is_not_sealed_yet(self):
        self.get("/support/products/vs-1", self.token_for(self.supporter))
        newest = AuditEntry.objects.filter(customer="C-1001").latest("id")

        response = self.client.get(f"/portal/access/{newest.pk}/proof", follow=True)

        self.assertIn("being sealed", " ".join(self.messages_of(response)))

    def test_it_asks_a_visitor_to_sign_in(self):
        entry = AuditEntry.objects.filter(customer="C-1001").first()

        response = self.browser().get(f"/portal/access/{entry.pk}/proof")

        self.assertEqual(response.status_code, 302)

    def test_the_snippet_in_the_docs_checks_a_proof_with_the_standard_library(self):
        snippet = re.search(r"```python\n(.*?)```", VERIFY_DOC.read_text(), re.DOTALL)[1]
        self.assertLess(len(snippet.splitlines()), 40)
        script = self.folder / "verify.py"
        script.write_text(snippet)
        path = self.download()

        good = subprocess.run(  # noqa: S603 - the docs' own snippet, on a file written here
            [sys.executable, str(script), str(path)], capture_output=True, text=True
        )
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertTrue(good.stdout.startswith("OK: product_read at "), good.stdout)

        document = json.loads(path.read_text())
        document["leaf"] = document["leaf"][:-4] + "AAA="
        path.write_text(json.dumps(document))
        bad = subprocess.run(  # noqa: S603
            [sys.executable, str(script), str(path)], capture_output=True, text=True
        )
        self.assertNotEqual(bad.returncode, 0)

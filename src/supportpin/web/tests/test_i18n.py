"""The web UI speaks German by default and English on request; the German catalog is complete."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.test import SimpleTestCase
from django.utils import translation

from testsupport import SupportPinTestCase

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header and obsolete (#~) entries left out."""
    entries: list[Entry] = []
    entry, key = Entry(), None

    def finish():
        if key is not None and entry.msgid:
            entries.append(entry)

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            finish()
            entry, key = Entry(), None
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if key == "msgid":
                entry.msgid += text
            elif key == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + text
            else:
                entry.msgstr[key] += text
        else:
            keyword, quoted = line.split(" ", 1)
            text = ast.literal_eval(quoted)
            if keyword == "msgid":
                key, entry.msgid = "msgid", text
            elif keyword == "msgid_plural":
                key, entry.msgid_plural = "msgid_plural", text
            else:
                match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
                key = int(match.group(1) or 0)
                entry.msgstr[key] = text
    return entries


GERMAN_PO = Path(settings.LOCALE_PATHS[0]) / "de" / "LC_MESSAGES" / "django.po"


class GermanCatalogTests(SimpleTestCase):
    def setUp(self):
        self.entries = read_po(GERMAN_PO)

    def test_it_has_the_web_ui_messages(self):
        msgids = {e.msgid for e in self.entries}

        self.assertGreater(len(self.entries), 100)
        for expected in ("Sign in", "Who had access?", "Enter PIN", "PIN redeemed"):
            self.assertIn(expected, msgids)

    def test_it_translates_every_message(self):
        untranslated = [e.msgid for e in self.entries if not all(e.msgstr.values())]
        plural_gaps = [e.msgid for e in self.entries if e.msgid_plural and len(e.msgstr) != 2]

        self.assertEqual(untranslated, [])
        self.assertEqual(plural_gaps, [])

    def test_it_translates_every_choice_the_ui_shows(self):
        """Event names, states and reasons come from model choices: each needs its German."""
        with translation.override(None):  # the labels as written, whatever ran before
            labels = {
                str(label)
                for model in apps.get_models()
                if model.__module__.startswith("supportpin.")
                for model_field in model._meta.get_fields()
                for value, label in getattr(model_field, "choices", None) or []
                # Only labels the code wrote; Django titles the value of a choice without one.
                if str(label) != value.replace("_", " ").title()
            }
        with translation.override("de"):
            untranslated = sorted(label for label in labels if translation.gettext(label) == label)

        self.assertGreater(len(labels), 25)
        self.assertEqual(untranslated, [])

    def test_it_has_no_fuzzy_entries(self):
        fuzzy = [e.msgid for e in self.entries if "fuzzy" in e.flags]
        lines = GERMAN_PO.read_text(encoding="utf-8").splitlines()
        fuzzy_lines = [n for n, line in enumerate(lines, 1) if re.match(r"#,.*\bfuzzy\b", line)]

        self.assertEqual(fuzzy, [])
        self.assertEqual(fuzzy_lines, [], "fuzzy flag (the header counts too)")

    def test_it_keeps_every_placeholder(self):
        for e in self.entries:
            expected = set(PLACEHOLDER.findall(e.msgid + (e.msgid_plural or "")))
            for text in e.msgstr.values():
                with self.subTest(msgid=e.msgid):
                    self.assertEqual(set(PLACEHOLDER.findall(text)) - expected, set())
                    if not e.msgid_plural:
                        self.assertEqual(set(PLACEHOLDER.findall(text)), expected)

    def test_it_is_compiled_from_the_current_po_file(self):
        """A stale django.mo shows as a message that gettext translates other than the .po."""
        with translation.override("de"):
            for e in self.entries:
                with self.subTest(msgid=e.msgid):
                    if e.msgid_plural:
                        one = translation.ngettext(e.msgid, e.msgid_plural, 1)
                        many = translation.ngettext(e.msgid, e.msgid_plural, 5)
                        self.assertEqual((one, many), (e.msgstr[0], e.msgstr[1]))
                    else:
                        self.assertEqual(translation.gettext(e.msgid), e.msgstr[0])


class LanguageTests(SupportPinTestCase):
    def test_it_shows_the_sign_in_page_in_german_by_default(self):
        response = self.client.get("/login/")

        self.assertContains(response, '<html lang="de">')
        self.assertContains(response, "<h1>Anmeldung für Kunden</h1>")
        self.assertContains(response, "Kundennummer oder E-Mail-Adresse")
        self.assertNotContains(response, "Customer sign-in")

    def test_it_switches_to_english_through_the_language_form(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})

        self.assertRedirects(response, "/login/", fetch_redirect_response=False)
        page = self.client.get("/login/")
        self.assertContains(page, '<html lang="en">')
        self.assertContains(page, "<h1>Customer sign-in</h1>")
        self.assertContains(page, "Customer number or e-mail")
        self.assertNotContains(page, "Anmeldung")

    def test_it_keeps_the_language_choice_in_a_secure_same_site_cookie(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})

        cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
        self.assertEqual(cookie.value, "en")
        self.assertTrue(cookie["secure"])
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")

    def test_it_explains_a_failed_sign_in_in_german(self):
        response = self.client.post("/login/", {"login": "C-1001", "password": "wrong"})

        self.assertContains(
            response, "Kundennummer, E-Mail-Adresse oder Passwort ist falsch.", status_code=400
        )

from io import StringIO

from django.core.management import CommandError, call_command

from supportpin.accounts.models import ApiKey
from testsupport import SupportPinTestCase

DECISION = "/decisions?supporter=sam&product=gs-1"


class ApiKeyCommandTests(SupportPinTestCase):
    def run_command(self, *args: str) -> str:
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    def new_key(self, name: str) -> str:
        return self.run_command("createapikey", name).strip().splitlines()[-1]

    def test_it_lists_keys_without_the_key_itself(self):
        panel = self.new_key("panel")

        listing = self.run_command("apikeys")

        self.assertIn("billing", listing)
        self.assertRegex(listing, r"\n\d+\tpanel\t2026-11-27T09:00:00\+00:00\t-\n")
        self.assertNotIn(panel, listing)
        self.assertNotIn(self.api_key, listing)

    def test_it_revokes_a_key_by_name_at_once(self):
        self.assertEqual(self.get(DECISION, self.api_key).status_code, 200)

        self.run_command("revokeapikey", "billing")

        self.assertEqual(self.get(DECISION, self.api_key).status_code, 401)
        self.assertRegex(self.run_command("apikeys"), r"\tbilling\t\S+\t2026-11-27T09:00:00")

    def test_it_revokes_a_key_by_id_and_keeps_the_others(self):
        panel = self.new_key("panel")
        panel_id = ApiKey.objects.get(name="panel").pk

        self.run_command("revokeapikey", str(panel_id))

        self.assertEqual(self.get(DECISION, panel).status_code, 401)
        self.assertEqual(self.get(DECISION, self.api_key).status_code, 200)

    def test_it_fails_for_an_unknown_key(self):
        with self.assertRaisesMessage(CommandError, "No live integration key"):
            self.run_command("revokeapikey", "nobody")

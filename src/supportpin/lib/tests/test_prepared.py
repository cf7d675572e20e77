from datetime import timedelta

from django.db.models import CharField, DateTimeField
from django.test import override_settings

from supportpin.accounts.models import Staff
from supportpin.lib.prepared import Param, PreparedQuery
from testsupport import START, SupportPinTestCase


class PreparedQueryTests(SupportPinTestCase):
    def setUp(self):
        super().setUp()
        # Staff named `name` who joined more than a day before `at` (all personas joined at START).
        self.query = PreparedQuery(
            lambda: Staff.objects.filter(
                username=Param("name", CharField()),
                created_at__lt=Param("at", DateTimeField()) - timedelta(days=1),
            )
        )

    def names(self, name: str, at) -> list[str]:
        return [staff.username for staff in self.query.run({"name": name, "at": at})]

    def test_it_runs_with_each_calls_values_not_the_first_ones(self):
        after_two_days = START + timedelta(days=2)

        self.assertEqual(self.names("sam", after_two_days), ["sam"])
        self.assertEqual(self.names("olga", after_two_days), ["olga"])
        self.assertEqual(self.names("nobody", after_two_days), [])

    def test_it_takes_an_offset_from_the_value_at_each_run(self):
        day = timedelta(days=1)

        # Joined at START: more than a day before START + 1 day + 1 s, not before START + 1 day.
        self.assertEqual(self.names("sam", START + day + timedelta(seconds=1)), ["sam"])
        self.assertEqual(self.names("sam", START + day), [])
        self.assertEqual(self.names("sam", START), [])

    def test_it_builds_once_and_again_after_a_settings_change(self):
        builds = []

        def build():
            builds.append(1)
            return Staff.objects.filter(username=Param("name", CharField()))

        query = PreparedQuery(build)
        for name in ("sam", "olga"):
            query.run({"name": name})
        self.assertEqual(len(builds), 1)

        # A setting the query was built from may have changed: build it again.
        with override_settings(SUPPORTPIN_TICKET_AUTOCLOSE_DAYS=7):
            self.assertEqual([s.username for s in query.run({"name": "ada"})], ["ada"])
        query.run({"name": "ada"})
        self.assertEqual(len(builds), 3)  # once in the override, once after it

    def test_it_gives_the_first_row_or_none(self):
        after_two_days = START + timedelta(days=2)

        self.assertEqual(self.query.first({"name": "sam", "at": after_two_days}).username, "sam")
        self.assertIsNone(self.query.first({"name": "nobody", "at": after_two_days}))

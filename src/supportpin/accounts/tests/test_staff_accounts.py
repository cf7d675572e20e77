from supportpin.accounts.actions import Actor, create_staff, set_staff_active
from supportpin.accounts.models import Role, Staff
from supportpin.audit.models import AuditEntry, Event
from supportpin.lib import clock
from supportpin.lib.problems import OwnAccount, UsernameTaken
from testsupport import PASSWORD, SupportPinTestCase


class StaffAccountTests(SupportPinTestCase):
    def test_it_refuses_to_create_a_staff_member_over_an_existing_one(self):
        with self.assertRaises(UsernameTaken):
            create_staff(
                username="sam",
                display_name="Impostor",
                password=PASSWORD,
                role=Role.ADMIN,
                email="",
                now=clock.now(),
                by=Actor.admin(self.admin),
            )

        self.supporter.refresh_from_db()
        self.assertEqual(
            (self.supporter.display_name, self.supporter.role), ("Sam S.", "supporter")
        )

    def test_it_keeps_an_admin_from_disabling_their_own_account(self):
        with self.assertRaises(OwnAccount):
            set_staff_active(
                staff=self.admin, active=False, now=clock.now(), by=Actor.admin(self.admin)
            )

        self.assertTrue(Staff.objects.get(pk=self.admin.pk).is_active)

    def test_it_lets_an_admin_disable_someone_else(self):
        set_staff_active(
            staff=self.supporter, active=False, now=clock.now(), by=Actor.admin(self.admin)
        )

        self.assertFalse(Staff.objects.get(pk=self.supporter.pk).is_active)


ADA_BODY = {"display_name": "Ada A.", "password": PASSWORD, "role": "admin"}


class OwnAccountThroughTheApiTests(SupportPinTestCase):
    def test_it_refuses_an_admin_disabling_their_own_account(self):
        token = self.token_for(self.admin)

        response = self.put("/staff/ada", ADA_BODY | {"active": False}, token)

        self.assertProblem(response, 409, "own_account")
        self.assertTrue(Staff.objects.get(pk=self.admin.pk).is_active)
        self.assertEqual(self.put("/staff/ada", ADA_BODY, token).status_code, 200)

    def test_it_lets_the_integration_disable_an_admin(self):
        response = self.put("/staff/ada", ADA_BODY | {"active": False}, self.api_key)

        self.assertEqual(response.status_code, 200)
        self.assertFalse(Staff.objects.get(pk=self.admin.pk).is_active)


class StaffAuditTests(SupportPinTestCase):
    """Every change to a staff account is in the audit log, with who did it and no customer."""

    def entries(self, event: Event) -> list[tuple]:
        return list(
            AuditEntry.objects.filter(event=event)
            .order_by("id")
            .values_list("actor_kind", "actor", "customer", "detail")
        )

    def put_sam(self, token: str, **changes):
        body = {"display_name": "Sam S.", "password": PASSWORD, "role": "supporter"} | changes
        response = self.put("/staff/sam", body, token)
        self.assertEqual(response.status_code, 200, response.content)

    def test_it_records_a_new_account_with_the_integration_key_name(self):
        body = {"display_name": "Neo N.", "password": "neo's long password", "role": "supporter"}

        self.assertEqual(self.put("/staff/neo", body, self.api_key).status_code, 201)

        self.assertEqual(
            self.entries(Event.STAFF_CREATED)[-1],
            ("integration", "billing", "", {"staff": "neo", "role": "supporter"}),
        )

    def test_it_records_a_disable_and_an_enable_by_an_admin(self):
        token = self.token_for(self.admin)

        self.put_sam(token, active=False)
        self.put_sam(token, active=True)

        self.assertEqual(
            self.entries(Event.STAFF_DISABLED), [("admin", "Ada A.", "", {"staff": "sam"})]
        )
        self.assertEqual(
            self.entries(Event.STAFF_ENABLED), [("admin", "Ada A.", "", {"staff": "sam"})]
        )

    def test_it_records_a_password_change_but_not_the_same_password_again(self):
        self.put_sam(self.api_key)
        self.put_sam(self.api_key, password="a brand-new long password")

        self.assertEqual(
            self.entries(Event.STAFF_PASSWORD_CHANGED),
            [("integration", "billing", "", {"staff": "sam"})],
        )

    def test_it_records_sessions_ended_by_an_admin(self):
        response = self.delete("/staff/sam/sessions", self.token_for(self.admin))

        self.assertEqual(response.status_code, 204)
        self.assertEqual(
            self.entries(Event.STAFF_SESSIONS_ENDED), [("admin", "Ada A.", "", {"staff": "sam"})]
        )

    def test_it_records_an_account_created_on_the_admin_page(self):
        create_staff(
            username="neo",
            display_name="Neo N.",
            password=PASSWORD,
            role=Role.SUPPORTER,
            email="",
            now=clock.now(),
            by=Actor.admin(self.admin),
        )

        self.assertEqual(
            self.entries(Event.STAFF_CREATED)[-1],
            ("admin", "Ada A.", "", {"staff": "neo", "role": "supporter"}),
        )

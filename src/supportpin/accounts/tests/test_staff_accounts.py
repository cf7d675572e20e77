from supportpin.accounts.actions import create_staff, set_staff_active
from supportpin.accounts.models import Role, Staff
from supportpin.lib import clock
from supportpin.lib.problems import OwnAccount, UsernameTaken
from supportpin.lib.testing import PASSWORD, SupportPinTestCase


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
            )

        self.supporter.refresh_from_db()
        self.assertEqual(
            (self.supporter.display_name, self.supporter.role), ("Sam S.", "supporter")
        )

    def test_it_keeps_an_admin_from_disabling_their_own_account(self):
        with self.assertRaises(OwnAccount):
            set_staff_active(staff=self.admin, active=False, now=clock.now(), by=self.admin)

        self.assertTrue(Staff.objects.get(pk=self.admin.pk).is_active)

    def test_it_lets_an_admin_disable_someone_else(self):
        set_staff_active(staff=self.supporter, active=False, now=clock.now(), by=self.admin)

        self.assertFalse(Staff.objects.get(pk=self.supporter.pk).is_active)

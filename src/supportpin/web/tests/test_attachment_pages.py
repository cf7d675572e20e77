"""Attachments in the portal and the supporter panel: sending, listing, downloading, preview."""

import tempfile
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from supportpin.tickets.models import Attachment, Ticket
from supportpin.tickets.tests.test_attachments import LOG, png_bytes
from supportpin.web.tests.browser import WebTestCase
from testsupport import START


class AttachmentPageTestCase(WebTestCase):
    def setUp(self):
        super().setUp()
        media = tempfile.TemporaryDirectory()
        self.addCleanup(media.cleanup)
        override = override_settings(MEDIA_ROOT=media.name)
        override.enable()
        self.addCleanup(override.disable)
        self.sign_in_customer()
        response = self.client.post(
            "/portal/tickets/new/", {"subject": "Crash", "message": "See the log."}
        )
        self.ticket = Ticket.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))

    def send(self, client, path: str, *files: tuple[str, bytes], body="Anbei."):
        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        return client.post(path, {"body": body, "attachments": uploads}, follow=True)

    def customer_sends(self, *files):
        return self.send(self.client, f"/portal/tickets/{self.ticket.pk}/", *files)

    def staff_client(self, who=None) -> Client:
        client = Client()
        client.cookies["django_language"] = "en"
        self.sign_in_staff(who, client=client)
        return client


class PortalAttachmentTests(AttachmentPageTestCase):
    def test_the_customer_sends_files_and_sees_them_in_the_conversation(self):
        response = self.customer_sends(("server.log", LOG), ("shot.png", png_bytes()))
        log, image = Attachment.objects.order_by("id")
        self.assertContains(response, "Your message has been sent.")
        self.assertContains(
            response, f'href="/portal/tickets/{self.ticket.pk}/attachments/{log.pk}/"'
        )
        preview = f"/portal/tickets/{self.ticket.pk}/attachments/{image.pk}/preview/"
        self.assertContains(response, f'src="{preview}"')
        self.assertNotContains(response, f"/attachments/{log.pk}/preview/")
        self.assertCleanPage(response)

    def test_the_form_takes_files(self):
        page = self.page(f"/portal/tickets/{self.ticket.pk}/")
        self.assertContains(page, 'enctype="multipart/form-data"')
        self.assertContains(page, 'type="file" name="attachments"')

    def test_the_customer_downloads_own_file(self):
        self.customer_sends(("server.log", LOG))
        attachment = Attachment.objects.get()
        response = self.client.get(f"/portal/tickets/{self.ticket.pk}/attachments/{attachment.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), LOG)
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_another_customer_gets_the_not_found_page(self):
        self.customer_sends(("server.log", LOG))
        attachment = Attachment.objects.get()
        other = Client()
        self.sign_in_customer(self.other_customer, client=other)
        response = other.get(f"/portal/tickets/{self.ticket.pk}/attachments/{attachment.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(LOG, response.content)

    @override_settings(SUPPORTPIN_ATTACHMENTS_PER_MESSAGE=1)
    def test_too_many_files_get_a_readable_message(self):
        response = self.customer_sends(("a.log", LOG), ("b.log", LOG))
        self.assertContains(response, "Attach at most 1 files to one message, each from 1 byte")
        self.assertFalse(Attachment.objects.exists())
        self.assertEqual(self.ticket.messages.count(), 1)

    def test_a_locked_ticket_takes_no_files(self):
        self.travel_to(START + timedelta(days=31))
        self.sign_in_customer()
        response = self.customer_sends(("late.log", LOG))
        self.assertContains(response, "This ticket is locked")
        self.assertFalse(Attachment.objects.exists())


class PanelAttachmentTests(AttachmentPageTestCase):
    def test_every_supporter_sees_and_downloads_the_customers_files(self):
        self.customer_sends(("server.log", LOG), ("shot.png", png_bytes()))
        log, image = Attachment.objects.order_by("id")
        for who in (self.supporter, self.other_supporter):
            staff = self.staff_client(who)
            page = staff.get(f"/support/tickets/{self.ticket.pk}/")
            self.assertContains(page, f"/support/tickets/{self.ticket.pk}/attachments/{log.pk}/")
            download = staff.get(f"/support/tickets/{self.ticket.pk}/attachments/{log.pk}/")
            self.assertEqual(b"".join(download.streaming_content), LOG)
            preview = staff.get(
                f"/support/tickets/{self.ticket.pk}/attachments/{image.pk}/preview/"
            )
            self.assertEqual(preview["Content-Type"], "image/png")
            self.assertTrue(preview["Content-Security-Policy"].startswith("sandbox"))

    def test_the_holder_replies_with_a_file(self):
        staff = self.staff_client()
        staff.post(f"/support/tickets/{self.ticket.pk}/claim/")
        response = self.send(staff, f"/support/tickets/{self.ticket.pk}/", ("fix.txt", b"done"))
        self.assertContains(response, "Your reply has been sent to the customer.")
        self.assertEqual(Attachment.objects.get().message.author_role, "supporter")

    def test_a_customer_session_cannot_use_the_panels_download(self):
        self.customer_sends(("server.log", LOG))
        attachment = Attachment.objects.get()
        response = self.client.get(
            f"/support/tickets/{self.ticket.pk}/attachments/{attachment.pk}/"
        )
        self.assertEqual(response.status_code, 302)
        self.assertIn("/staff/login/", response["Location"])

    def test_the_limits_are_explained_in_german(self):
        self.client.cookies["django_language"] = "de"
        page = self.page(f"/portal/tickets/{self.ticket.pk}/")
        self.assertContains(page, "Dateien anhängen")
        self.assertContains(page, "Hängen Sie höchstens 5 Dateien an eine Nachricht an")

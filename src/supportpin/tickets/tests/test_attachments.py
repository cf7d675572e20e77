"""Files on ticket messages over the API: limits, who may read them, how they are served."""

import io
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings
from PIL import Image

from supportpin.audit.models import AuditEntry, Event
from supportpin.tickets.models import Attachment
from supportpin.tickets.tests.test_lifecycle import TicketTestCase
from testsupport import START

LOG = b"Nov 27 09:00:01 fra-1 srcds[42]: segfault\n"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


class AttachmentTestCase(TicketTestCase):
    def setUp(self):
        super().setUp()
        media = tempfile.TemporaryDirectory()
        self.addCleanup(media.cleanup)
        self.media = Path(media.name)
        override = override_settings(MEDIA_ROOT=media.name)
        override.enable()
        self.addCleanup(override.disable)

    def send(self, path: str, who, body="Log anbei.", files=()):
        """POST a multipart message with `files` as (name, bytes) pairs."""
        data = {"body": body, "files": [SimpleUploadedFile(n, c) for n, c in files]}
        return self.client.post(
            f"/api/v1{path}", data, headers={"Authorization": f"Bearer {self.token_for(who)}"}
        )

    def customer_sends(self, ticket_id: int, files, customer=None):
        return self.send(
            f"/me/tickets/{ticket_id}/messages", customer or self.customer, files=files
        )

    def fetch(self, path: str, who):
        return self.get(path, self.token_for(who))


class UploadTests(AttachmentTestCase):
    def test_customer_sends_a_file_and_both_sides_see_it(self):
        ticket = self.open_ticket()
        response = self.customer_sends(ticket["id"], [("server.log", LOG)])
        self.assertEqual(response.status_code, 201, response.content)
        [sent] = response.json()["attachments"]
        self.assertEqual(
            (sent["name"], sent["size"], sent["preview"]), ("server.log", len(LOG), False)
        )
        [_, message] = self.support_view(ticket["id"])["messages"]
        self.assertEqual(message["attachments"], [sent])
        self.assertEqual(self.customer_view(ticket["id"])["messages"][1]["attachments"], [sent])

    def test_the_stored_name_is_random_not_the_customers(self):
        ticket = self.open_ticket()
        self.customer_sends(ticket["id"], [("../../etc/passwd", LOG), ("a.log", LOG)])
        stored = [a.file.name for a in Attachment.objects.order_by("id")]
        self.assertEqual(len(set(stored)), 2)
        for name in stored:
            self.assertRegex(name, r"^attachments/[0-9a-f]{32}$")
        files = sorted(p.name for p in (self.media / "attachments").iterdir())
        self.assertEqual(files, sorted(Path(n).name for n in stored))

    def test_supporter_holding_the_ticket_sends_a_file(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        response = self.send(
            f"/support/tickets/{ticket['id']}/messages",
            self.supporter,
            files=[("fix.png", png_bytes())],
        )
        self.assertEqual(response.status_code, 201, response.content)
        self.assertTrue(response.json()["attachments"][0]["preview"])

    def test_supporter_not_holding_the_ticket_may_not_send_files(self):
        ticket = self.open_ticket()
        self.claim(ticket["id"])
        response = self.send(
            f"/support/tickets/{ticket['id']}/messages",
            self.other_supporter,
            files=[("x.log", LOG)],
        )
        self.assertProblem(response, 403, "not_assignee")
        self.assertFalse(Attachment.objects.exists())

    def test_customer_cannot_attach_to_someone_elses_ticket(self):
        ticket = self.open_ticket(customer=self.other_customer)
        response = self.customer_sends(ticket["id"], [("x.log", LOG)])
        self.assertProblem(response, 404, "not_found")
        self.assertFalse(Attachment.objects.exists())

    def test_json_messages_still_work(self):
        ticket = self.open_ticket()
        self.assertEqual(self.write(ticket["id"])["attachments"], [])

    @override_settings(SUPPORTPIN_ATTACHMENTS_PER_MESSAGE=2)
    def test_too_many_files_are_refused(self):
        ticket = self.open_ticket()
        response = self.customer_sends(ticket["id"], [(f"{i}.log", LOG) for i in range(3)])
        self.assertProblem(response, 422, "invalid")
        self.assertIn("at most 2 files", response.json()["detail"])
        self.assertEqual(len(self.customer_view(ticket["id"])["messages"]), 1)

    @override_settings(SUPPORTPIN_ATTACHMENT_MAX_BYTES=100)
    def test_too_large_a_file_is_refused(self):
        ticket = self.open_ticket()
        response = self.customer_sends(ticket["id"], [("big.log", b"x" * 101)])
        self.assertProblem(response, 422, "invalid")
        self.assertIn("big.log", response.json()["detail"])
        self.assertFalse(Attachment.objects.exists())

    def test_empty_file_and_missing_body_are_refused(self):
        ticket = self.open_ticket()
        self.assertProblem(self.customer_sends(ticket["id"], [("e.log", b"")]), 422, "invalid")
        response = self.send(f"/me/tickets/{ticket['id']}/messages", self.customer, body="")
        self.assertProblem(response, 422, "invalid")

    def test_a_locked_ticket_takes_no_files(self):
        ticket = self.open_ticket()
        self.travel_to(START + timedelta(days=31))
        response = self.customer_sends(ticket["id"], [("late.log", LOG)])
        self.assertProblem(response, 409, "ticket_locked")
        self.assertFalse(Attachment.objects.exists())

    def test_the_files_are_named_in_the_messages_audit_entry(self):
        ticket = self.open_ticket()
        self.customer_sends(ticket["id"], [("server.log", LOG)])
        entry = AuditEntry.objects.filter(event=Event.TICKET_MESSAGE).get()
        self.assertEqual(entry.detail["attachments"], [{"name": "server.log", "size": len(LOG)}])


class DownloadTests(AttachmentTestCase):
    def setUp(self):
        super().setUp()
        self.ticket = self.open_ticket()["id"]
        files = [("server.log", LOG), ("shot.png", png_bytes()), ("fake.png", b"<svg onload=x>")]
        sent = self.customer_sends(self.ticket, files).json()["attachments"]
        self.log, self.image, self.fake = (a["id"] for a in sent)

    def mine(self, attachment_id: int, suffix: str = "") -> str:
        return f"/me/tickets/{self.ticket}/attachments/{attachment_id}{suffix}"

    def support(self, attachment_id: int, suffix: str = "") -> str:
        return f"/support/tickets/{self.ticket}/attachments/{attachment_id}{suffix}"

    def test_customer_downloads_own_file_as_an_attachment(self):
        response = self.fetch(self.mine(self.log), self.customer)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), LOG)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="server.log"')
        self.assertEqual(response["Content-Type"], "application/octet-stream")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_every_supporter_may_read_every_tickets_files(self):
        for who in (self.supporter, self.other_supporter, self.admin):
            response = self.fetch(self.support(self.log), who)
            self.assertEqual(response.status_code, 200, who)
            self.assertTrue(response["Content-Disposition"].startswith("attachment;"))

    def test_another_customer_gets_not_found(self):
        self.assertProblem(self.fetch(self.mine(self.log), self.other_customer), 404, "not_found")

    def test_a_file_is_found_only_under_its_own_ticket(self):
        other = self.open_ticket()["id"]
        path = f"/me/tickets/{other}/attachments/{self.log}"
        self.assertProblem(self.fetch(path, self.customer), 404, "not_found")

    def test_roles_and_anonymous_callers_are_refused(self):
        self.assertProblem(self.fetch(self.support(self.log), self.customer), 403, "forbidden")
        self.assertProblem(self.fetch(self.mine(self.log), self.supporter), 403, "forbidden")
        self.assertEqual(self.get(self.mine(self.log)).status_code, 401)

    def test_an_image_checked_by_content_is_previewed_in_a_sandbox(self):
        for path, who in ((self.mine, self.customer), (self.support, self.supporter)):
            response = self.fetch(path(self.image, "/preview"), who)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response["Content-Type"], "image/png")
            self.assertTrue(response["Content-Disposition"].startswith("inline;"))
            self.assertTrue(response["Content-Security-Policy"].startswith("sandbox"))
            self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_a_file_named_like_an_image_but_not_one_has_no_preview(self):
        response = self.fetch(self.mine(self.fake, "/preview"), self.customer)
        self.assertProblem(response, 404, "not_found")
        self.assertProblem(
            self.fetch(self.mine(self.log, "/preview"), self.customer), 404, "not_found"
        )

    def test_preview_is_denied_to_another_customer(self):
        response = self.fetch(self.mine(self.image, "/preview"), self.other_customer)
        self.assertProblem(response, 404, "not_found")


class StorageSettingTests(SimpleTestCase):
    def storage_backend(self, **env: str) -> str:
        code = "from django.conf import settings; print(settings.STORAGES['default']['BACKEND'])"
        environment = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "supportpin.settings"}
        result = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env={**environment, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def test_files_are_local_unless_a_bucket_is_set(self):
        self.assertEqual(self.storage_backend(), "django.core.files.storage.FileSystemStorage")
        self.assertEqual(
            self.storage_backend(SUPPORTPIN_S3_BUCKET="tickets"), "storages.backends.s3.S3Storage"
        )

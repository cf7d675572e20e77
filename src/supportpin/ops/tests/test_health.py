"""/healthz and /readyz: cheap, unauthenticated, 200 or 503 with a tiny body."""

import socket

from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from testsupport import SupportPinTestCase


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HealthTests(SupportPinTestCase):
    def test_it_answers_healthz_while_the_process_runs(self):
        response = self.client.get("/healthz")

        self.assertEqual((response.status_code, response.content), (200, b"ok\n"))

    def test_it_answers_readyz_when_the_database_is_migrated(self):
        response = self.client.get("/readyz")

        self.assertEqual((response.status_code, response.content), (200, b"ready\n"))

    def test_it_is_not_ready_while_a_migration_is_unapplied(self):
        newest = MigrationRecorder.Migration.objects.filter(app="access").latest("id")
        newest.delete()

        with self.assertLogs("supportpin.request", "WARNING") as logs:
            response = self.client.get("/readyz")

        self.assertEqual((response.status_code, response.content), (503, b"not ready\n"))
        self.assertIn("migrations", logs.output[0])

    def test_it_is_not_ready_while_redis_is_unreachable(self):
        with (
            override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"),
            self.assertLogs("supportpin.request", "WARNING") as logs,
        ):
            response = self.client.get("/readyz")

        self.assertEqual((response.status_code, response.content), (503, b"not ready\n"))
        self.assertIn("redis", logs.output[0])

    @override_settings(ALLOWED_HOSTS=["support.example"], SECURE_SSL_REDIRECT=True)
    def test_it_answers_probes_by_the_nodes_own_address_over_plain_http(self):
        # A load balancer probes 10.0.0.5:8000; the app itself would redirect and refuse.
        self.assertEqual(self.client.get("/healthz", HTTP_HOST="10.0.0.5:8000").status_code, 200)
        self.assertEqual(self.client.get("/readyz", HTTP_HOST="10.0.0.5:8000").status_code, 200)
        self.assertEqual(self.client.get("/login/", HTTP_HOST="10.0.0.5:8000").status_code, 400)

    def test_it_reveals_no_versions_or_internals(self):
        for path in ("/healthz", "/readyz"):
            response = self.client.get(path)
            self.assertLessEqual(len(response.content), 16, path)
            self.assertNotIn("Server", response.headers)
            self.assertNotIn(b"django", response.content.lower())

    def test_it_refuses_other_methods(self):
        response = self.client.post("/readyz")

        self.assertEqual((response.status_code, response["Allow"]), (405, "GET, HEAD"))

"""Forward auth end to end: a real nginx runs the snippet of docs/forward-auth.md.

nginx listens on a free port in front of a tiny upstream (the "admin tool") and asks the live
server's /auth/forward on every request. time_machine moves the clock of the whole process, so
the live server's thread travels with the test.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyotp
import time_machine
from django.test import Client, LiveServerTestCase, override_settings

from supportpin.access.actions import end_grant, open_support_pin, redeem_pin
from supportpin.accounts.models import Role
from supportpin.lib import clock
from testsupport import (
    PASSWORD,
    START,
    make_customer,
    make_product,
    make_staff,
)

NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
)
DOCS = Path(__file__).resolve().parents[4] / "docs" / "forward-auth.md"
ROUTES = [re.compile(r"^/server/(?P<product>[A-Za-z0-9_-]+)(/|$)")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AdminTool(BaseHTTPRequestHandler):
    """The guarded tool: echoes the path and the Support-PIN headers nginx passed on."""

    def do_GET(self):
        body = json.dumps(
            {
                "path": self.path,
                "supporter": self.headers.get("X-SupportPIN-Supporter"),
                "grant": self.headers.get("X-SupportPIN-Grant"),
                "until": self.headers.get("X-SupportPIN-Until"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@unittest.skipUnless(NGINX, "no nginx executable (apt-get install nginx); nginx tests skipped")
@override_settings(SUPPORTPIN_FORWARD_AUTH_ROUTES=ROUTES)
class NginxForwardAuthTests(LiveServerTestCase):
    """A supporter's browser, with a Support-PIN staff session, asks the tool through nginx."""

    host = "127.0.0.1"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tool = ThreadingHTTPServer(("127.0.0.1", 0), AdminTool)
        threading.Thread(target=cls.tool.serve_forever, daemon=True).start()
        cls.folder = tempfile.TemporaryDirectory()
        cls.port = free_port()
        cls.nginx = cls.start_nginx(Path(cls.folder.name))

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(timeout=10)
        cls.tool.shutdown()
        cls.tool.server_close()
        cls.folder.cleanup()
        super().tearDownClass()

    @classmethod
    def start_nginx(cls, folder: Path) -> subprocess.Popen:
        snippet = re.search(r"```nginx\n(.*?)```", DOCS.read_text(), re.DOTALL)
        assert snippet is not None, "docs/forward-auth.md has no nginx snippet"
        server = (
            snippet[1]
            .replace("listen 80;", f"listen 127.0.0.1:{cls.port};")
            .replace("http://127.0.0.1:8080", f"http://127.0.0.1:{cls.tool.server_port}")
            .replace("https://support.example.com", cls.live_server_url)
        )
        temp_paths = "\n".join(
            f"{kind}_temp_path {folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        config = folder / "nginx.conf"
        config.write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'};\nevents {{}}\n"
            f"http {{\naccess_log off;\n{temp_paths}\n{server}\n}}\n"
        )
        nginx = subprocess.Popen(  # noqa: S603 - the installed nginx, on a config written here
            [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                return nginx
            except OSError:
                if nginx.poll() is not None:
                    break
                time.sleep(0.05)
        nginx.kill()
        raise AssertionError(f"nginx did not start: {(folder / 'error.log').read_text()}")

    def setUp(self):
        traveller = time_machine.travel(START, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)
        self.customer = make_customer("C-1001", now=START)
        make_product("gs-1", self.customer, now=START)
        make_product("gs-2", make_customer("C-2002", now=START), now=START)
        self.supporter = make_staff("sam", "Sam S.", Role.SUPPORTER, now=START)

    def signed_in_cookie(self) -> str:
        """The session cookie a browser holds after the staff sign-in on Support-PIN."""
        browser = Client()
        code = pyotp.TOTP(self.supporter.otp_secret).at(clock.now())
        response = browser.post(
            "/staff/login/", {"username": "sam", "password": PASSWORD, "otp": code}
        )
        self.assertEqual(response.status_code, 302)
        return f"sessionid={browser.cookies['sessionid'].value}"

    def through_nginx(self, path: str, cookie: str | None = None, method="GET", **headers):
        """GET the tool's path through nginx; return the status and the tool's echo (or None)."""
        if cookie:
            headers["Cookie"] = cookie
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                method, path, body=b"" if method == "POST" else None, headers=headers
            )
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return response.status, json.loads(body) if response.status == 200 else None

    def redeem(self):
        pin = open_support_pin(customer=self.customer, now=clock.now())
        return redeem_pin(
            supporter=self.supporter, customer_number="C-1001", pin=pin.pin, now=clock.now()
        ).grant

    def test_it_answers_401_through_nginx_without_a_staff_session(self):
        self.assertEqual(self.through_nginx("/server/gs-1/"), (401, None))

    def test_it_lets_the_supporter_through_from_redemption_until_deactivation(self):
        cookie = self.signed_in_cookie()
        self.assertEqual(self.through_nginx("/server/gs-1/", cookie), (403, None))

        grant = self.redeem()

        status, seen = self.through_nginx("/server/gs-1/files?dir=/", cookie)
        self.assertEqual(status, 200)
        self.assertEqual(
            seen,
            {
                "path": "/server/gs-1/files?dir=/",
                "supporter": "sam",
                "grant": str(grant.pk),
                "until": "2026-11-27T10:00:00+00:00",
            },
        )
        self.assertEqual(self.through_nginx("/server/gs-2/", cookie), (403, None))
        self.assertEqual(self.through_nginx("/server/gs-1/../gs-2/", cookie), (403, None))
        spoofed = self.through_nginx(
            "/server/gs-2/", cookie, **{"X-Forwarded-Uri": "/server/gs-1/"}
        )
        self.assertEqual(spoofed, (403, None))

        end_grant(supporter=self.supporter, grant_id=grant.pk, now=clock.now())

        self.assertEqual(self.through_nginx("/server/gs-1/", cookie), (403, None))

    def test_it_shuts_the_tool_the_second_the_pin_expires(self):
        cookie = self.signed_in_cookie()
        self.redeem()
        self.clock.move_to(START + timedelta(minutes=59, seconds=59), tick=False)
        self.assertEqual(self.through_nginx("/server/gs-1/", cookie)[0], 200)

        self.clock.move_to(START + timedelta(minutes=60), tick=False)

        self.assertEqual(self.through_nginx("/server/gs-1/", cookie), (403, None))

    def test_it_lets_the_supporter_post_a_form_of_the_tool(self):
        cookie = self.signed_in_cookie()
        self.redeem()

        status, seen = self.through_nginx("/server/gs-1/restart", cookie, method="POST")

        self.assertEqual((status, seen["path"]), (200, "/server/gs-1/restart"))

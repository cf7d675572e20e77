"""A browser's view of the web UI: sessions signed in through the sign-in pages, page checks."""

import re
from datetime import timedelta

import pyotp
from django.test import Client

from supportpin.accounts.models import Customer, Staff
from supportpin.lib import clock
from testsupport import PASSWORD, SupportPinTestCase, personal_markers

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The yes a confirmation page (or the browser's dialog) adds to a destructive POST.
CONFIRMED = {"confirm": "yes"}
TOTP_KEY = re.compile(r"<code>((?:[A-Z2-7]{4} )*[A-Z2-7]{1,4})</code>")


def shown_key(response) -> str:
    """The TOTP key the enrolment page shows in groups of four, without its spaces."""
    match = TOTP_KEY.search(response.content.decode())
    assert match is not None, "no TOTP key grouped in fours on the page"
    return match.group(1).replace(" ", "")


class WebTestCase(SupportPinTestCase):
    """Pages in English (the catalog language-independent), signed in like a browser would."""

    def setUp(self):
        super().setUp()
        self.client.cookies["django_language"] = "en"

    def browser(self, **defaults) -> Client:
        """Another browser (its own session), reading the UI in English."""
        client = Client(**defaults)
        client.cookies["django_language"] = "en"
        return client

    # --- signing in ---------------------------------------------------------------------

    def code_for(self, staff: Staff) -> str:
        """The current code of the staff member's authenticator; each code is accepted once."""
        staff.refresh_from_db()
        totp = pyotp.TOTP(staff.otp_secret)
        if totp.timecode(clock.now()) <= staff.otp_last_step:
            self.travel_to(clock.now() + timedelta(seconds=totp.interval))
        return totp.at(clock.now())

    def sign_in_customer(self, customer: Customer | None = None, client=None):
        response = (client or self.client).post(
            "/login/", {"login": (customer or self.customer).pk, "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 302, response.content)
        return response

    def sign_in_staff(self, staff: Staff | None = None, client=None):
        staff = staff or self.supporter
        response = (client or self.client).post(
            "/staff/login/",
            {"username": staff.username, "password": PASSWORD, "otp": self.code_for(staff)},
        )
        self.assertEqual(response.status_code, 302, response.content)
        self.assertEqual(response["Location"], "/support/")
        return response

    # --- pages --------------------------------------------------------------------------

    def page(self, path: str, status: int = 200, client=None):
        """GET a page, check its status and that it keeps the strict CSP."""
        response = (client or self.client).get(path)
        self.assertEqual(response.status_code, status, response.content[:2000])
        self.assertCleanPage(response)
        return response

    def assertCleanPage(self, response) -> None:
        """The page carries a strict CSP and needs neither inline script nor inline style."""
        policy = response.get("Content-Security-Policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        self.assertEqual(directives.get("script-src"), ["'self'"], policy)
        self.assertNotIn("unsafe-inline", policy)
        html = response.content.decode()
        self.assertIsNone(INLINE_SCRIPT.search(html), "inline <script> without src")
        self.assertIsNone(STYLE_ATTRIBUTE.search(html), "style= attribute")
        self.assertIsNone(INLINE_HANDLER.search(html), "inline on…= event handler")

    def assertNoPersonalData(self, response) -> None:
        html = response.content.decode()
        for customer in (self.customer, self.other_customer):
            for field, marker in personal_markers(customer.pk).items():
                self.assertNotIn(marker, html, f"{customer.pk} {field} leaked")

    def messages_of(self, response) -> list[str]:
        return [str(m) for m in response.context["messages"]] if response.context else []

    def csrf_token(self, response) -> str:
        return CSRF_TOKEN.search(response.content.decode()).group(1)

"""Passkeys in the real browser: Chromium's virtual authenticator (CDP WebAuthn domain).

The live server runs at http://localhost:PORT: a WebAuthn relying party id cannot be an IP
address, so SUPPORTPIN_WEBAUTHN_RP_ID is `localhost` and the server's origin is allowed.
"""

import re

import pytest
from playwright.sync_api import expect

from supportpin.accounts.models import Passkey
from supportpin.audit.models import AuditEntry, Event
from supportpin.notify.models import OutboxMessage
from supportpin.web.tests import test_e2e
from supportpin.web.tests.test_e2e import sign_in_staff_first_time
from testsupport import PASSWORD

# The browser, the live server's data and the CSP watch of the main browser tests.
browser = test_e2e.browser
browsers = test_e2e.browsers
world = test_e2e.world
_connection_closed = test_e2e._connection_closed


@pytest.fixture(autouse=True)
def _live_server_origin(live_server, settings):
    assert live_server.url.startswith("http://localhost:")
    settings.SUPPORTPIN_WEBAUTHN_RP_ID = "localhost"
    settings.SUPPORTPIN_WEBAUTHN_ORIGINS = [live_server.url]


def devtools(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    return cdp


def virtual_authenticator(cdp) -> str:
    """Plug a platform authenticator with user verification into the page's browser."""
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return added["authenticatorId"]


def register_passkey(page, name: str) -> None:
    page.goto("/support/passkeys/")
    page.fill("#id_passkey_name", name)
    page.locator("[data-passkey=register]").click()
    expect(page.get_by_test_id("passkey").filter(has_text=name)).to_be_visible()


def password_then_passkey_step(page, username: str) -> None:
    page.locator("header form[action='/logout/'] button").click()
    page.goto("/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/login/code/$"))


class PasskeyTests:
    __test__ = True

    def test_a_staff_member_registers_a_passkey_and_signs_in_with_it(self, world, browsers):
        page = browsers.open("supporter")
        virtual_authenticator(devtools(page))
        sign_in_staff_first_time(page, "sam")

        register_passkey(page, "Laptop")
        browsers.shot(page, "20-passkeys")
        password_then_passkey_step(page, "sam")
        browsers.shot(page, "21-passkey-second-factor")
        page.locator("[data-passkey=sign-in]").click()

        expect(page).to_have_url(re.compile(r"/support/$"))
        methods = [
            e.detail["method"] for e in AuditEntry.objects.filter(event=Event.STAFF_SIGNED_IN)
        ]
        assert methods == ["password+totp", "password+passkey"]
        assert AuditEntry.objects.filter(event=Event.PASSKEY_ADDED).count() == 1
        mails = [m.payload for m in OutboxMessage.objects.all() if "Passkey" in str(m.payload)]
        assert [m["to"] for m in mails] == [["sam@staff.example"]]
        assert Passkey.objects.get().last_used_at is not None
        browsers.assert_clean()

    def test_an_answer_from_another_origin_is_refused(self, world, browsers, settings):
        page = browsers.open("supporter")
        virtual_authenticator(devtools(page))
        sign_in_staff_first_time(page, "sam")
        register_passkey(page, "Laptop")
        settings.SUPPORTPIN_WEBAUTHN_ORIGINS = ["https://support.example.net"]
        password_then_passkey_step(page, "sam")

        page.locator("[data-passkey=sign-in]").click()

        expect(page.locator("#passkey-error")).to_contain_text("nicht akzeptiert")
        expect(page).to_have_url(re.compile(r"/staff/login/code/$"))
        page.goto("/support/")
        expect(page).to_have_url(re.compile(r"/staff/login/"))
        assert AuditEntry.objects.filter(event=Event.STAFF_SIGNED_IN).count() == 1

    def test_a_removed_passkey_no_longer_signs_in(self, world, browsers):
        page = browsers.open("supporter")
        cdp = devtools(page)
        laptop = virtual_authenticator(cdp)
        sign_in_staff_first_time(page, "sam")
        register_passkey(page, "Laptop")
        laptop_keys = cdp.send("WebAuthn.getCredentials", {"authenticatorId": laptop})
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": laptop})
        # A second key on another authenticator, so the passkey step is still offered.
        yubikey = virtual_authenticator(cdp)
        register_passkey(page, "YubiKey")
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": yubikey})
        # The laptop again, holding its key, which is then removed on the passkeys page.
        laptop = virtual_authenticator(cdp)
        for key in laptop_keys["credentials"]:
            cdp.send("WebAuthn.addCredential", {"authenticatorId": laptop, "credential": key})
        page.get_by_test_id("passkey").filter(has_text="Laptop").locator("button").click()
        expect(page.get_by_test_id("passkey")).to_have_count(1)
        assert AuditEntry.objects.filter(event=Event.PASSKEY_REMOVED).count() == 1
        password_then_passkey_step(page, "sam")

        page.locator("[data-passkey=sign-in]").click()

        expect(page.locator("#passkey-error")).to_contain_text("nicht akzeptiert")
        page.goto("/support/")
        expect(page).to_have_url(re.compile(r"/staff/login/"))

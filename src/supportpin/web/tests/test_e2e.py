"""End to end: a real browser (Debian's Chromium through Playwright) walks the web UI.

The clock is not frozen here: the browser counts the PIN's minutes down in real time, and
TOTP codes come from the real time step. Each test gets its own data (transactional DB).
"""

import io
import os
import re
import shutil
from pathlib import Path

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the Python package playwright is not installed"
)

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
)
if CHROMIUM is None:
    pytest.skip(
        "no Chromium executable (apt-get install chromium); e2e tests skipped",
        allow_module_level=True,
    )

from datetime import timedelta  # noqa: E402

import pyotp  # noqa: E402
from django.db import connection  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from supportpin.access.actions import redeem_pin, revoke_grant  # noqa: E402
from supportpin.access.models import Grant, SupportPin  # noqa: E402
from supportpin.accounts.models import Role, Staff  # noqa: E402
from supportpin.lib import clock  # noqa: E402
from testsupport import (  # noqa: E402
    PASSWORD,
    make_customer,
    make_product,
    make_staff,
    personal_markers,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[4]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def screenshot_dir() -> Path:
    folder = Path(
        os.environ.get("SUPPORTPIN_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


@pytest.fixture(scope="module")
def browser(request):
    # Playwright's sync API runs an event loop in this thread; Django would then refuse the
    # tests' ORM calls as "async-unsafe". Allowed only while this module runs (documented
    # way for Playwright + live_server), so no other test module runs with the check off.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # After the session, when output is no longer captured.
        folder = screenshot_dir()
        request.config.add_cleanup(lambda: reporter.write_line(f"E2E screenshots: {folder}"))


@pytest.fixture(scope="module", autouse=True)
def _connection_closed(django_db_blocker):
    """Close this module's last connection at its end."""
    yield
    with django_db_blocker.unblock():
        # Otherwise this module's last connection stays open and PostgreSQL cannot drop the
        # test database at the end of the session.
        connection.close()


class Browsers:
    """One browser context per person, watching every page for console errors and CSP hits."""

    def __init__(self, browser, base_url: str, folder: Path):
        self.browser = browser
        self.base_url = base_url
        self.folder = folder
        self.problems: list[str] = []
        self.expected_statuses: dict[str, int] = {}
        self.contexts = []

    def open(self, who: str, *, viewport=DESKTOP, locale="de-DE"):
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport, locale=locale)
        context.set_default_timeout(10_000)
        # CSP violations are reported as events too, not only as console messages.
        context.expose_function(
            "reportCspViolation", lambda text: self.problems.append(f"{who}: CSP {text}")
        )
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " window.reportCspViolation(e.violatedDirective + ' blocked ' + e.blockedURI"
            " + ' on ' + document.location.pathname); });"
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(who, message))
        page.on("pageerror", lambda error: self.problems.append(f"{who}: JS error {error}"))
        return page

    def _console(self, who: str, message) -> None:
        text = message.text
        if message.type != "error" and "Content Security Policy" not in text:
            return
        url = message.location.get("url", "")
        status = self.expected_statuses.get(url.removeprefix(self.base_url))
        # A page we deliberately load with an error status (e.g. "no access", 404) is
        # reported by Chromium as a failed resource; that one is expected.
        if status is not None and f"status of {status}" in text:
            return
        self.problems.append(f"{who}: console {message.type}: {text} ({url})")

    def expect_status(self, path: str, status: int) -> None:
        self.expected_statuses[path] = status

    def shot(self, page, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(browser, live_server):
    opened = Browsers(browser, live_server.url, screenshot_dir())
    yield opened
    opened.close()


@pytest.fixture
def world(live_server):
    """Customer C-1001 with gs-1 and vs-1, supporters sam and olga, admin ada."""
    now = clock.now()
    customer = make_customer("C-1001", now=now)
    make_product("gs-1", customer, now=now)
    make_product("vs-1", customer, now=now, type="vserver")
    make_staff("sam", "Sam S.", Role.SUPPORTER, now=now)
    make_staff("olga", "Olga O.", Role.SUPPORTER, now=now)
    make_staff("ada", "Ada A.", Role.ADMIN, now=now)
    return customer


# --- steps a person takes -----------------------------------------------------------------


def sign_in_customer(page, number: str, *, shot=None) -> None:
    page.goto("/login/")
    if shot:
        shot(page, "01-customer-login")
    page.fill("#id_login", number)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))


def sign_in_staff_first_time(page, username: str, *, shot=None) -> None:
    """First sign-in: no code → enrolment with a QR code → the authenticator's code."""
    page.goto("/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/staff/enrol/$"))
    expect(page.locator(".qr svg")).to_be_visible()
    if shot:
        shot(page, "03-staff-enrol")
    secret = page.locator("main code").inner_text().replace(" ", "")
    page.fill("#id_otp", pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/support/$"))


def open_support(page) -> str:
    """Click "Support" at the top right; return the PIN as shown."""
    page.locator("header a.button.support").click()
    expect(page).to_have_url(re.compile(r"/portal/support/$"))
    return page.get_by_test_id("pin").inner_text().strip()


def assert_no_personal_data(page) -> None:
    html = page.content()
    for marker in personal_markers("C-1001").values():
        assert marker not in html, f"personal data {marker!r} on a staff page {page.url}"


def badge(page, status: str):
    return page.locator(f"main .badge.{status}")


# --- the flows ----------------------------------------------------------------------------


class PinFlowTests:
    __test__ = True

    def test_it_lets_a_supporter_in_with_the_pin_until_the_customer_revokes(self, world, browsers):
        customer = browsers.open("customer")
        sign_in_customer(customer, "C-1001", shot=browsers.shot)
        pin = open_support(customer)
        assert re.fullmatch(r"\d{3} \d{3}", pin), pin
        expect(customer.locator("main time[data-countdown-to]")).to_have_text(
            re.compile(r"^(60:00|59:[0-5]\d)$")
        )
        browsers.shot(customer, "02-customer-support-pin")

        supporter = browsers.open("supporter")
        sign_in_staff_first_time(supporter, "sam", shot=browsers.shot)
        browsers.shot(supporter, "04-supporter-pin-entry")
        supporter.fill("#id_customer", "C-1001")
        supporter.fill("#id_pin", pin)  # as read aloud, with the space
        supporter.locator("main form.card button[type=submit]").click()
        expect(supporter).to_have_url(re.compile(r"/support/customers/C-1001/$"))
        expect(supporter.locator("main table")).to_contain_text("gs-1")
        expect(supporter.locator("main table")).to_contain_text("vs-1")
        assert_no_personal_data(supporter)
        browsers.shot(supporter, "05-supporter-customer")
        supporter.locator("main a[href='/support/products/gs-1/']").click()
        expect(supporter).to_have_url(re.compile(r"/support/products/gs-1/$"))
        expect(supporter.locator("main")).to_contain_text("fra-1")
        assert_no_personal_data(supporter)
        browsers.shot(supporter, "06-supporter-product")

        customer.locator("header nav a[href='/portal/access/']").click()
        expect(customer).to_have_url(re.compile(r"/portal/access/$"))
        entries = customer.get_by_test_id("access-entry")
        expect(entries.filter(has_text="Sam S.").first).to_be_visible()
        expect(entries.filter(has_text="gs-1").first).to_be_visible()
        browsers.shot(customer, "07-customer-access-log")

        open_support(customer)
        grant = customer.get_by_test_id("grant")
        expect(grant).to_contain_text("Sam S.")
        asked = []
        customer.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        grant.get_by_role("button", name="Zugriff widerrufen").click()
        expect(customer.get_by_test_id("grant")).to_have_count(1)
        assert asked == [
            "Den Zugriff von Sam S. widerrufen? Dann erreicht Sam S. Ihre Produkte nicht mehr."
        ]
        customer.once("dialog", lambda dialog: dialog.accept())
        grant.get_by_role("button", name="Zugriff widerrufen").click()
        expect(customer).to_have_url(re.compile(r"/portal/support/$"))
        expect(customer.locator(".messages")).to_contain_text("widerrufen")
        expect(customer.get_by_test_id("grant")).to_have_count(0)
        fresh_pin = customer.get_by_test_id("pin").inner_text().strip()
        assert fresh_pin != pin, "the revoked PIN is still shown"
        browsers.shot(customer, "08-customer-support-after-revoke")

        browsers.expect_status("/support/products/gs-1/", 404)
        response = supporter.reload()
        assert response.status == 404
        expect(supporter.locator("main")).not_to_contain_text("fra-1")
        expect(supporter.locator("main a[href='/support/']")).to_be_visible()
        browsers.shot(supporter, "09-supporter-no-access")
        supporter.goto("/support/")
        expect(supporter.get_by_test_id("my-grant")).to_have_count(0)
        browsers.assert_clean()


class TicketFlowTests:
    __test__ = True

    def test_it_gives_the_assignee_the_ticket_product_while_the_ticket_is_open(
        self, world, browsers
    ):
        customer = browsers.open("customer")
        sign_in_customer(customer, "C-1001")
        customer.locator("header nav a[href='/portal/tickets/']").click()
        customer.locator("main a[href='/portal/tickets/new/']").click()
        customer.fill("#id_subject", "Server startet nicht")
        customer.fill("#id_message", "Seit dem Update startet gs-1 nicht mehr.")
        customer.check("input[name=products][value='gs-1']")
        browsers.shot(customer, "10-customer-new-ticket")
        customer.locator("main form.card button[type=submit]").click()
        expect(customer).to_have_url(re.compile(r"/portal/tickets/\d+/$"))
        ticket_path = customer.url.removeprefix(browsers.base_url)
        number = re.search(r"/(\d+)/$", ticket_path).group(1)
        expect(badge(customer, "open")).to_be_visible()

        supporter = browsers.open("supporter")
        sign_in_staff_first_time(supporter, "sam")
        supporter.locator("header nav a[href='/support/tickets/']").click()
        row = supporter.locator("main tbody tr", has_text="Server startet nicht")
        expect(row).to_contain_text("C-1001")
        assert_no_personal_data(supporter)
        browsers.shot(supporter, "11-supporter-ticket-queue")
        row.locator("a").click()
        expect(supporter).to_have_url(re.compile(rf"/support/tickets/{number}/$"))
        expect(supporter.get_by_test_id("read-only")).to_be_visible()
        expect(supporter.locator("main .conversation")).to_contain_text("Seit dem Update")
        assert_no_personal_data(supporter)

        supporter.locator(f"form[action='/support/tickets/{number}/claim/'] button").click()
        expect(supporter.get_by_test_id("read-only")).to_have_count(0)
        supporter.fill("#id_body", "Ich schaue mir gs-1 an.")
        supporter.locator("main form.card button[type=submit]").click()
        expect(badge(supporter, "answered")).to_be_visible()
        browsers.shot(supporter, "12-supporter-ticket")
        supporter.locator(f"form[action='/support/tickets/{number}/close/'] button").click()
        expect(badge(supporter, "closed")).to_be_visible()
        browsers.expect_status("/support/products/gs-1/", 404)
        assert supporter.goto("/support/products/gs-1/").status == 404

        customer.reload()
        conversation = customer.locator("main .conversation")
        expect(conversation).to_contain_text("Sam S.")
        expect(conversation).to_contain_text("Ich schaue mir gs-1 an.")
        expect(badge(customer, "closed")).to_be_visible()
        customer.fill("#id_body", "Geht immer noch nicht.")
        customer.locator("main form.card button[type=submit]").click()
        expect(badge(customer, "open")).to_be_visible()
        browsers.shot(customer, "13-customer-ticket-conversation")

        supporter.goto(ticket_path.replace("/portal/", "/support/"))
        expect(badge(supporter, "open")).to_be_visible()
        expect(supporter.locator("main .conversation")).to_contain_text("Geht immer noch nicht.")
        supporter.locator("main .banner a[href='/support/customers/C-1001/']").click()
        table = supporter.locator("main table")
        expect(table).to_contain_text("gs-1")
        expect(table).not_to_contain_text("vs-1")  # the ticket names only gs-1
        supporter.locator("main a[href='/support/products/gs-1/']").click()
        expect(supporter.locator("main")).to_contain_text("fra-1")
        browsers.expect_status("/support/products/vs-1/", 404)
        assert supporter.goto("/support/products/vs-1/").status == 404
        browsers.assert_clean()


class AdminPageTests:
    __test__ = True

    def test_it_shows_the_admin_the_staff_and_an_intact_audit_chain(self, world, browsers):
        admin = browsers.open("admin")
        sign_in_staff_first_time(admin, "ada")
        admin.locator("header nav a[href='/staff-admin/']").click()
        expect(admin).to_have_url(re.compile(r"/staff-admin/$"))
        for username in ("ada", "olga", "sam"):
            expect(admin.get_by_test_id(f"staff-{username}")).to_be_visible()
        browsers.shot(admin, "14-admin-staff")
        admin.locator("main a[href='/staff-admin/audit/']").click()
        expect(admin).to_have_url(re.compile(r"/staff-admin/audit/$"))
        browsers.shot(admin, "15-admin-audit")
        browsers.assert_clean()


class LanguageTests:
    __test__ = True

    def test_it_speaks_german_by_default_and_english_after_the_switch(self, world, browsers):
        customer = browsers.open("customer", viewport=PHONE)
        sign_in_customer(customer, "C-1001")
        expect(customer.locator("html")).to_have_attribute("lang", "de")
        expect(customer.locator("header nav a[href='/portal/access/']")).to_have_text(
            "Wer hatte Zugriff?"
        )
        open_support(customer)
        expect(customer.locator("main h1")).to_have_text("Ihre Support-PIN")
        browsers.shot(customer, "16-customer-support-de-phone")

        customer.locator("header button[name=language][value=en]").click()
        expect(customer).to_have_url(re.compile(r"/portal/support/$"))
        expect(customer.locator("html")).to_have_attribute("lang", "en")
        expect(customer.locator("main h1")).to_have_text("Your Support-PIN")
        expect(customer.locator("header nav a[href='/portal/access/']")).to_have_text(
            "Who had access?"
        )
        expect(customer.get_by_test_id("pin")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
        # Usable at phone width: nothing sticks out sideways.
        overflow = customer.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the Support page is {overflow}px wider than a phone"
        browsers.shot(customer, "17-customer-support-en-phone")
        browsers.assert_clean()


class ApiDocsTests:
    __test__ = True

    def test_it_shows_the_interactive_api_docs_under_the_strict_policy(self, browsers):
        reader = browsers.open("developer")

        response = reader.goto("/api/v1/docs")

        assert "script-src 'self'" in response.headers["content-security-policy"]
        path = reader.locator(".opblock-summary-path", has_text="/api/v1/support/grants").first
        expect(path).to_be_visible()
        path.click()
        expect(reader.get_by_role("button", name="Try it out")).to_be_visible()
        browsers.shot(reader, "18-api-docs")
        browsers.assert_clean()


def refresh_panel(page, selector: str) -> None:
    """Let htmx refresh a live panel now instead of at its next 10 s tick."""
    with page.expect_response(
        lambda response: "/panel/" in response.url or "/grants/" in response.url
    ):
        page.evaluate("selector => htmx.trigger(selector, 'refresh')", selector)


class LivePanelBrowserTests:
    __test__ = True

    def test_it_keeps_the_focus_and_announces_a_redemption_and_a_revocation(self, world, browsers):
        customer = browsers.open("customer")
        sign_in_customer(customer, "C-1001")
        pin = open_support(customer)
        customer.focus("#new-pin")
        customer.evaluate("document.getElementById('new-pin').dataset.kept = 'yes'")

        refresh_panel(customer, "#support-panel")
        customer.wait_for_timeout(300)
        # Nothing changed: the panel was not swapped at all.
        assert customer.evaluate("document.getElementById('new-pin').dataset.kept") == "yes"

        sam = Staff.objects.get(username="sam")
        redemption = redeem_pin(supporter=sam, customer_number="C-1001", pin=pin, now=clock.now())
        refresh_panel(customer, "#support-panel")

        expect(customer.get_by_test_id("grant")).to_have_count(1)
        expect(customer.locator("#live-announcer")).to_have_text("Sam S. hat Ihre PIN eingelöst.")
        expect(customer.locator("#live-announcer")).to_have_attribute("aria-live", "polite")
        assert customer.evaluate("document.activeElement.id") == "new-pin"
        browsers.shot(customer, "19-customer-panel-announces-redemption")

        revoke_grant(customer=world, grant_id=redemption.grant.pk, now=clock.now())
        refresh_panel(customer, "#support-panel")

        expect(customer.get_by_test_id("grant")).to_have_count(0)
        expect(customer.locator("#live-announcer")).to_contain_text(
            "Der Zugriff von Sam S. ist beendet."
        )
        assert customer.evaluate("document.activeElement.id") == "new-pin"
        # The countdown ticks in the panel, outside the live region: it is never read out.
        assert customer.locator("#live-announcer [data-countdown-to]").count() == 0
        browsers.assert_clean()

    def test_it_announces_an_expiry_to_both_sides_when_the_countdown_ends(self, world, browsers):
        customer = browsers.open("customer")
        sign_in_customer(customer, "C-1001")
        pin = open_support(customer)
        supporter = browsers.open("supporter")
        sign_in_staff_first_time(supporter, "sam")
        supporter.fill("#id_customer", "c-1001")  # any case
        supporter.fill("#id_pin", pin)
        supporter.locator("main form.card button[type=submit]").click()
        expect(supporter).to_have_url(re.compile(r"/support/customers/C-1001/$"))
        # The browsers count down in real time, so the PIN is made to run out in a few seconds.
        soon = clock.now() + timedelta(seconds=6)
        SupportPin.objects.filter(customer=world).update(expires_at=soon)
        Grant.objects.filter(customer=world).update(ends_at=soon)
        supporter.goto("/support/")
        supporter.focus("#my-grants h2")
        customer.reload()
        expect(customer.get_by_test_id("grant")).to_have_count(1)

        expect(customer.locator("#live-announcer")).to_contain_text(
            "Der Zugriff von Sam S. ist abgelaufen.", timeout=15_000
        )
        expect(customer.locator("#live-announcer")).to_contain_text("Ihre PIN ist abgelaufen.")
        expect(supporter.locator("#live-announcer")).to_have_text(
            "Ihr Zugriff auf Kunde C-1001 ist abgelaufen.", timeout=15_000
        )
        assert supporter.evaluate("document.activeElement.tagName") == "H2"
        browsers.assert_clean()

    def test_it_asks_before_disabling_a_supporter(self, world, browsers):
        admin = browsers.open("admin")
        sign_in_staff_first_time(admin, "ada")
        admin.goto("/staff-admin/")
        row = admin.get_by_test_id("staff-sam")
        asked = []
        admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        row.get_by_role("button", name="Deaktivieren").click()

        assert asked == [
            "Sam S. deaktivieren? Die Sitzungen und der Zugriff auf Kunden enden sofort."
        ]
        expect(row).not_to_contain_text("deaktiviert")
        admin.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Deaktivieren").click()
        expect(admin.get_by_test_id("staff-sam")).to_contain_text("deaktiviert")
        browsers.assert_clean()

    def test_it_asks_before_resetting_a_supporters_second_factor(self, world, browsers):
        admin = browsers.open("admin")
        sign_in_staff_first_time(admin, "ada")
        admin.goto("/staff-admin/")
        reset = admin.get_by_test_id("staff-sam").get_by_role(
            "button", name="Zweiten Faktor zurücksetzen"
        )
        asked = []
        admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        reset.click()

        assert asked == [
            "Zweiten Faktor von Sam S. zurücksetzen? Passkeys und Authenticator werden entfernt "
            "und die Sitzungen enden; bei der nächsten Anmeldung wird ein Authenticator neu "
            "eingerichtet."
        ]
        admin.once("dialog", lambda dialog: dialog.accept())
        reset.click()
        expect(admin.locator("body")).to_contain_text(
            "Sam S. richtet bei der nächsten Anmeldung einen zweiten Faktor neu ein."
        )
        browsers.assert_clean()

    def test_it_asks_on_a_page_of_its_own_without_javascript(self, world, browser, live_server):
        context = browser.new_context(
            base_url=live_server.url, java_script_enabled=False, locale="de-DE"
        )
        page = context.new_page()
        sign_in_staff_first_time(page, "ada")
        page.goto("/staff-admin/")
        page.get_by_test_id("staff-sam").get_by_role("button", name="Deaktivieren").click()

        expect(page.locator("main h1")).to_have_text("Bitte bestätigen")
        expect(page.get_by_test_id("staff-sam")).to_have_count(0)
        page.get_by_role("button", name="Deaktivieren").click()
        expect(page.get_by_test_id("staff-sam")).to_contain_text("deaktiviert")
        context.close()


class PhoneLayoutTests:
    __test__ = True

    def test_it_labels_each_cell_of_a_table_card_on_a_phone(self, world, browsers):
        customer = browsers.open("customer", viewport=PHONE)
        sign_in_customer(customer, "C-1001")

        cell = customer.locator("main table td").nth(1)
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")

        assert label == '"Typ: "', label
        expect(cell).to_have_text("Gameserver")
        browsers.shot(customer, "20-phone-products")
        browsers.assert_clean()


AXE = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python")
CUSTOMER_PAGES = [
    "/portal/",
    "/portal/support/",
    "/portal/tickets/",
    "/portal/tickets/new/",
    "/portal/access/",
    "/portal/data/",
]
STAFF_PAGES = [
    "/support/",
    "/support/tickets/",
    "/support/customers/C-1001/",
    "/support/products/gs-1/",
    "/support/products/gs-2/",  # another customer's: "no access"
    "/support/api-tokens/",
    "/support/passkeys/",
    "/staff-admin/",
    "/staff-admin/audit/",
]
PUBLIC_PAGES = [
    "/login/",
    "/staff/login/",
    "/login/link/spl_not-a-link/",
    "/login/password/",
    "/login/password/C-1001/not-a-token/",
]


def _screenshot_png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (64, 40), (40, 90, 160)).save(image, "PNG")
    return image.getvalue()


SCREENSHOT = {"name": "screen.png", "mimeType": "image/png", "buffer": _screenshot_png()}


def axe_violations(page, path: str | None = None) -> list[str]:
    """What axe finds on `path`, or on the page as it is."""
    if path is not None:
        page.goto(path)
    results = AXE.Axe().run(page)
    where = path or page.url
    return [
        f"{where}: {v['id']} ({v['impact']}): " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in results.response["violations"]
    ]


class AccessibilityTests:
    __test__ = True

    @pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
    def test_it_finds_no_axe_violations_on_any_page(self, world, browsers, viewport):
        visitor = browsers.open("visitor", viewport=viewport)
        visitor.goto("/login/")
        visitor.evaluate("document.querySelector('main').append(document.createElement('img'))")
        # axe runs under the pages' strict CSP and sees what it should: an image without alt.
        assert [v["id"] for v in AXE.Axe().run(visitor).response["violations"]] == ["image-alt"]
        browsers.expect_status("/login/link/spl_not-a-link/", 400)
        browsers.expect_status("/login/password/C-1001/not-a-token/", 400)
        found = [v for path in PUBLIC_PAGES for v in axe_violations(visitor, path)]
        customer = browsers.open("customer", viewport=viewport)
        sign_in_customer(customer, "C-1001")
        pin = open_support(customer)
        customer.goto("/portal/tickets/new/")
        customer.fill("#id_subject", "Server down")
        customer.fill("#id_message", "It does not start.")
        customer.locator("main form button[type=submit]").click()
        ticket = customer.url
        found += [v for path in CUSTOMER_PAGES for v in axe_violations(customer, path)]
        # The ticket with a screenshot on a follow-up: the preview and the download link.
        customer.goto(ticket)
        customer.fill("#id_body", "Here is the screen.")
        customer.set_input_files("#id_attachments", [SCREENSHOT])
        customer.locator("main form:has(#id_body) button[type=submit]").click()
        expect(customer.locator("main .attachments img")).to_be_visible()
        found += axe_violations(customer)
        supporter = browsers.open("supporter", viewport=viewport)
        sign_in_staff_first_time(
            supporter, "sam", shot=lambda page, _name: found.extend(axe_violations(page))
        )
        browsers.expect_status("/staff-admin/", 403)
        found += axe_violations(supporter, "/staff-admin/")  # the app's own 403 page
        admin = browsers.open("admin", viewport=viewport)
        sign_in_staff_first_time(admin, "ada")
        admin.fill("#id_customer", "C-1001")
        admin.fill("#id_pin", pin)
        admin.locator("main form.card button[type=submit]").click()
        browsers.expect_status("/support/products/gs-2/", 404)
        found += [v for path in STAFF_PAGES for v in axe_violations(admin, path)]
        # The queue searched: counts, a result count; and a search refused with its reason.
        found += axe_violations(admin, "/support/tickets/?view=all&q=server")
        found += axe_violations(admin, "/support/tickets/?view=all&q=%3F%3F")
        found += axe_violations(admin, "/support/tickets/?view=all")
        admin.locator("main table a").first.click()
        found += axe_violations(admin, admin.url)

        assert found == [], "\n".join(found)

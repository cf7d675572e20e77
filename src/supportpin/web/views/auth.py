import json
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportpin.accounts.actions import (
    SignInMethod,
    accept_otp,
    accept_passkey_use,
    authenticate_customer,
    check_staff_password,
    record_staff_sign_in,
    use_sign_in_link,
)
from supportpin.accounts.models import Staff
from supportpin.accounts.throttle import count_failed_sign_in, sign_in_blocked
from supportpin.lib import clock
from supportpin.lib.problems import InvalidCredentials
from supportpin.web import oidc, passkeys, session
from supportpin.web.forms import CustomerSignInForm, OtpForm, StaffSignInForm

ENROLLING = "enrolling_staff"
ENROLLING_METHOD = "enrolling_method"
# Staff who proved the first factor (password, or the identity provider without MFA) and now
# confirm with a passkey or a TOTP code, within SECOND_FACTOR_MINUTES.
SECOND_FACTOR = "second_factor"
SECOND_FACTOR_MINUTES = 5
OIDC_NEXT = "oidc_next"
TOO_MANY = gettext_lazy("Too many failed sign-ins. Please wait a few minutes.")


def home(request):
    if request.customer is not None:
        return redirect("web:portal-products")
    if request.staff is not None:
        return redirect("web:support-home")
    return redirect("web:login")


def _next_or(request, default: str, target: str | None = None):
    target = target or request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=False
    ):
        return redirect(target)
    return redirect(default)


def customer_login(request):
    if not settings.SUPPORTPIN_CUSTOMER_PASSWORDS:
        context = {"panel_url": settings.SUPPORTPIN_CUSTOMER_PANEL_URL}
        status = 403 if request.method == "POST" else 200
        return render(request, "web/login_from_panel.html", context, status=status)
    form = CustomerSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login = form.cleaned_data["login"]
        now = clock.now()
        if sign_in_blocked(request, login, now=now):
            form.add_error(None, TOO_MANY)
        else:
            try:
                password = form.cleaned_data["password"]
                customer = authenticate_customer(login=login, password=password)
            except InvalidCredentials:
                count_failed_sign_in(request, login, now=now)
                form.add_error(None, _("Customer number, e-mail or password is wrong."))
            else:
                session.sign_in_customer(request, customer)
                return _next_or(request, "web:portal-products")
    return render(request, "web/login.html", {"form": form}, status=400 if form.errors else 200)


def sign_in_link(request, token: str):
    link = use_sign_in_link(token=token, now=clock.now())
    if link is None:
        response = render(request, "web/sign_in_link_invalid.html", status=400)
    else:
        session.sign_in_customer(request, link.customer)
        response = redirect(link.next)
    # The token is in this page's URL: no Referer may carry it to another site.
    response["Referrer-Policy"] = "no-referrer"
    return response


def staff_login(request):
    if settings.SUPPORTPIN_OIDC_ONLY:
        return _staff_login_page(request, None, status=403 if request.method == "POST" else 200)
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = clock.now()
        if sign_in_blocked(request, data["username"], now=now):
            form.add_error(None, TOO_MANY)
        else:
            try:
                staff = check_staff_password(username=data["username"], password=data["password"])
            except InvalidCredentials:
                staff = None
            if staff is not None and staff.passkeys.exists() and not _totp_allowed(staff, data):
                target = request.POST.get("next") or request.GET.get("next") or ""
                return _await_second_factor(request, staff, via="password", target=target, now=now)
            if staff is not None and not data["otp"] and staff.otp_confirmed_at is None:
                request.session[ENROLLING] = staff.pk
                return redirect("web:staff-enrol")
            if staff is not None and accept_otp(staff=staff, code=data["otp"], now=now):
                record_staff_sign_in(staff=staff, method=SignInMethod.PASSWORD_TOTP, now=now)
                session.sign_in_staff(request, staff)
                return _next_or(request, "web:support-home")
            count_failed_sign_in(request, data["username"], now=now)
            form.add_error(None, _("Username, password or code is wrong."))
    return _staff_login_page(request, form, status=400 if form.errors else 200)


def _totp_allowed(staff: Staff, data: dict) -> bool:
    # A staff member with a passkey who sends no code is asked for the passkey; with passkeys
    # required (SUPPORTPIN_STAFF_2FA=passkey) a code counts for nothing.
    return bool(data["otp"]) and settings.SUPPORTPIN_STAFF_2FA != "passkey"


def _await_second_factor(request, staff: Staff, *, via: str, target: str, now: datetime):
    request.session[SECOND_FACTOR] = {
        "staff": staff.pk,
        "epoch": staff.sessions_epoch,
        "until": (now + timedelta(minutes=SECOND_FACTOR_MINUTES)).isoformat(),
        "via": via,
        "next": target,
    }
    return redirect("web:staff-second-factor")


def _pending_second_factor(request, now: datetime) -> tuple[Staff | None, dict]:
    """The staff member awaiting their second factor in this session, if still in time."""
    pending = request.session.get(SECOND_FACTOR) or {}
    # No pending sign-in: 0 and -1 match no staff member.
    staff = Staff.objects.filter(
        pk=pending.get("staff", 0), is_active=True, sessions_epoch=pending.get("epoch", -1)
    ).first()
    if staff is None or now >= datetime.fromisoformat(pending["until"]):
        request.session.pop(SECOND_FACTOR, None)
        return None, {}
    return staff, pending


def _staff_login_page(request, form: StaffSignInForm | None, *, status: int, error: str = ""):
    """Render the staff sign-in page: the provider's button, the password form unless OIDC-only."""
    context = {
        "form": form,
        "error": error,
        "oidc_provider": settings.SUPPORTPIN_OIDC_NAME if oidc.enabled() else "",
    }
    return render(request, "web/staff_login.html", context, status=status)


def staff_enrol(request):
    staff = Staff.objects.filter(
        pk=request.session.get(ENROLLING), is_active=True, otp_confirmed_at__isnull=True
    ).first()
    if staff is None:
        return redirect("web:staff-login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        now = clock.now()
        if sign_in_blocked(request, staff.username, now=now):
            form.add_error(None, TOO_MANY)
        elif accept_otp(staff=staff, code=form.cleaned_data["otp"], now=now):
            method = request.session.get(ENROLLING_METHOD, SignInMethod.PASSWORD_TOTP)
            record_staff_sign_in(staff=staff, method=SignInMethod(method), now=now)
            session.sign_in_staff(request, staff)
            messages.success(request, _("Your authenticator is set up."))
            return redirect("web:support-home")
        else:
            # Codes guessed here count like those of the sign-in form.
            count_failed_sign_in(request, staff.username, now=now)
            form.add_error("otp", _("This code is not valid. Try the next one."))
    uri = (
        f"otpauth://totp/Support-PIN:{staff.username}?secret={staff.otp_secret}&issuer=Support-PIN"
    )
    qr = segno.make(uri, error="m").svg_inline(scale=5, title=_("QR code for your authenticator"))
    context = {"form": form, "qr": qr, "secret": staff.otp_secret, "staff": staff}
    return render(request, "web/staff_enrol.html", context, status=400 if form.errors else 200)


def _staff_login_failed(request, message: str, *, status: int = 400):
    form = None if settings.SUPPORTPIN_OIDC_ONLY else StaffSignInForm()
    return _staff_login_page(request, form, status=status, error=message)


def staff_oidc_start(request):
    if not oidc.enabled():
        raise Http404
    request.session[OIDC_NEXT] = request.GET.get("next", "")
    try:
        return oidc.redirect_to_provider(request)
    except oidc.SignInFailed:
        message = _("Your identity provider cannot be reached. Please try again later.")
        return _staff_login_failed(request, message, status=503)


def staff_oidc_callback(request):
    if not oidc.enabled():
        raise Http404
    try:
        identity = oidc.identity_from_callback(request)
    except oidc.SignInFailed:
        message = _("Signing in with your identity provider failed. Please try again.")
        return _staff_login_failed(request, message)
    now = clock.now()
    if sign_in_blocked(request, identity.username, now=now):
        return _staff_login_failed(request, str(TOO_MANY), status=429)
    staff = Staff.objects.filter(username=identity.username, is_active=True).first()
    if staff is None:
        count_failed_sign_in(request, identity.username, now=now)
        message = _(
            "Your identity provider signed you in as %(username)s, but Support-PIN has no active "
            "staff account of that name."
        ) % {"username": identity.username}
        return _staff_login_failed(request, message, status=403)
    target = request.session.pop(OIDC_NEXT, "")
    if identity.mfa:
        record_staff_sign_in(staff=staff, method=SignInMethod.OIDC, now=now)
        session.sign_in_staff(request, staff)
        return _next_or(request, "web:support-home", target)
    if staff.otp_confirmed_at is None and not staff.passkeys.exists():
        request.session[ENROLLING] = staff.pk
        request.session[ENROLLING_METHOD] = SignInMethod.OIDC_TOTP
        return redirect("web:staff-enrol")
    return _await_second_factor(request, staff, via="oidc", target=target, now=now)


def staff_second_factor(request):
    now = clock.now()
    staff, pending = _pending_second_factor(request, now)
    if staff is None:
        messages.info(request, _("Please sign in again."))
        return redirect("web:staff-login")
    has_passkeys = staff.passkeys.exists()
    offer_totp = not (has_passkeys and settings.SUPPORTPIN_STAFF_2FA == "passkey")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if sign_in_blocked(request, staff.username, now=now):
            form.add_error(None, TOO_MANY)
        elif offer_totp and accept_otp(staff=staff, code=form.cleaned_data["otp"], now=now):
            method = SignInMethod(f"{pending['via']}+totp")
            record_staff_sign_in(staff=staff, method=method, now=now)
            session.sign_in_staff(request, staff)
            return _next_or(request, "web:support-home", pending["next"])
        else:
            count_failed_sign_in(request, staff.username, now=now)
            form.add_error("otp", _("This code is not valid. Try the next one."))
    context = {
        "form": form if offer_totp else None,
        "staff": staff,
        "via": pending["via"],
        "offer_passkey": has_passkeys,
    }
    status = 400 if form.errors else 200
    return render(request, "web/staff_second_factor.html", context, status=status)


PASSKEY_REFUSED = gettext_lazy("This passkey was not accepted. Use a passkey registered here.")


@require_POST
def staff_passkey_options(request):
    staff, pending = _pending_second_factor(request, clock.now())
    if staff is None:
        return JsonResponse({"error": _("Please sign in again.")}, status=400)
    options, pending["challenge"] = passkeys.authentication_options()
    request.session[SECOND_FACTOR] = pending
    return HttpResponse(options, content_type="application/json")


@require_POST
def staff_passkey_sign_in(request):
    now = clock.now()
    staff, pending = _pending_second_factor(request, now)
    # Each challenge is good for one answer.
    challenge = pending.pop("challenge", None)
    if staff is None or challenge is None:
        return JsonResponse({"error": _("Please sign in again.")}, status=400)
    request.session[SECOND_FACTOR] = pending
    if sign_in_blocked(request, staff.username, now=now):
        return JsonResponse({"error": str(TOO_MANY)}, status=429)
    try:
        credential = json.loads(request.body)["credential"]
        passkey, sign_count = passkeys.verified_use(credential, staff=staff, challenge=challenge)
    except (ValueError, KeyError, TypeError, passkeys.CeremonyFailed):
        count_failed_sign_in(request, staff.username, now=now)
        return JsonResponse({"error": str(PASSKEY_REFUSED)}, status=400)
    if not accept_passkey_use(passkey=passkey, sign_count=sign_count, now=now):
        count_failed_sign_in(request, staff.username, now=now)
        return JsonResponse({"error": str(PASSKEY_REFUSED)}, status=400)
    record_staff_sign_in(staff=staff, method=SignInMethod(f"{pending['via']}+passkey"), now=now)
    target = pending["next"]
    session.sign_in_staff(request, staff)
    return JsonResponse({"redirect": _next_or(request, "web:support-home", target)["Location"]})


@require_POST
def logout(request):
    session.sign_out(request)
    messages.info(request, _("You are signed out."))
    return redirect("web:login")

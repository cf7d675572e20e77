"""Who is signed in to the web UI: one customer or one staff member per browser session."""

from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from supportpin.accounts.models import Customer, Staff
from supportpin.lib import clock

CUSTOMER_KEY = "customer"
STAFF_KEY = "staff"
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# The principal's sessions_epoch at sign-in: once it is raised (new password, disabled,
# sessions ended) the session is over.
EPOCH = "epoch"


def sign_in_customer(request, customer: Customer) -> None:
    _start(request, CUSTOMER_KEY, customer)


def sign_in_staff(request, staff: Staff) -> None:
    _start(request, STAFF_KEY, staff)


def _start(request, key: str, who: Customer | Staff) -> None:
    # A new session id on every sign-in: a planted session cookie is worthless.
    request.session.flush()
    now = clock.now().isoformat()
    request.session.update(
        {key: who.pk, EPOCH: who.sessions_epoch, SIGNED_IN_AT: now, SEEN_AT: now}
    )


def sign_out(request) -> None:
    request.session.flush()


class StaffSessionMiddleware:
    """Resolve who is signed in; end sessions of an older epoch, staff's after 12 h/60 min idle."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.customer = request.staff = None
        request.background_refresh = False
        session = request.session
        if STAFF_KEY in session:
            now = clock.now()
            signed_in = datetime.fromisoformat(session[SIGNED_IN_AT])
            seen = datetime.fromisoformat(session[SEEN_AT])
            too_old = now - signed_in >= timedelta(hours=settings.SUPPORTPIN_STAFF_SESSION_HOURS)
            idle = now - seen >= timedelta(minutes=settings.SUPPORTPIN_STAFF_IDLE_MINUTES)
            staff = Staff.objects.filter(
                pk=session[STAFF_KEY], is_active=True, sessions_epoch=session.get(EPOCH)
            ).first()
            if staff is None or too_old or idle:
                session.flush()
            else:
                request.staff = staff
        elif CUSTOMER_KEY in session:
            request.customer = Customer.objects.filter(
                pk=session[CUSTOMER_KEY], sessions_epoch=session.get(EPOCH)
            ).first()
            if request.customer is None:
                session.flush()
        response = self.get_response(request)
        if request.staff is not None and not request.background_refresh:
            request.session[SEEN_AT] = clock.now().isoformat()
            # The stored session ends when the idle rule ends it, so API tokens made in it
            # (accounts.access) end then too.
            request.session.set_expiry(settings.SUPPORTPIN_STAFF_IDLE_MINUTES * 60)
        return response


def staff_session_ends_at(request) -> datetime:
    """When the signed-in staff member's session ends at the latest (12 h after sign-in)."""
    signed_in = datetime.fromisoformat(request.session[SIGNED_IN_AT])
    return signed_in + timedelta(hours=settings.SUPPORTPIN_STAFF_SESSION_HOURS)


def principal(request) -> dict:
    """Template context: the signed-in customer or staff member."""
    return {
        "signed_in_customer": getattr(request, "customer", None),
        "signed_in_staff": getattr(request, "staff", None),
    }


def background_refresh(view):
    """Mark a view that pages poll by themselves: it does not count as staff activity."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.background_refresh = True
        return view(request, *args, **kwargs)

    return wrapper


def _to_sign_in(request, url: str):
    if request.headers.get("HX-Request"):
        # A background refresh must not swap a sign-in page into a panel: reload the page.
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def customer_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.customer is None:
            return _to_sign_in(request, f"{settings.LOGIN_URL}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.staff is None:
            messages.info(request, _("Please sign in."))
            return _to_sign_in(request, f"/staff/login/?next={request.path}")
        if must_register_passkey(request):
            messages.info(request, _("Register a passkey first: it is now required to sign in."))
            return _to_sign_in(request, reverse("web:staff-passkeys"))
        return view(request, *args, **kwargs)

    return wrapper


def must_register_passkey(request) -> bool:
    """Tell whether the signed-in staff member may do nothing but register a passkey.

    So it is while passkeys are required (SUPPORTPIN_STAFF_2FA=passkey) and they have none: they
    signed in with their TOTP code.
    """
    return (
        settings.SUPPORTPIN_STAFF_2FA == "passkey"
        and not request.path.startswith(reverse("web:staff-passkeys"))
        and not request.staff.passkeys.exists()
    )


def admin_required(view):
    @wraps(view)
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not request.staff.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper

"""Choosing a new password: a customer's reset by e-mail, and the link an admin's reset sends."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from supportpin.accounts.access import customer_for_password_link, staff_for_password_link
from supportpin.accounts.actions import (
    request_password_reset,
    reset_customer_password,
    set_staff_password,
)
from supportpin.accounts.throttle import PASSWORD_RESET, count, used_up
from supportpin.lib import clock
from supportpin.lib.urls import public_url
from supportpin.web.forms import NewPasswordForm, PasswordResetForm


def _customer_passwords_on() -> None:
    # Customers without passwords sign in from the panel: there is nothing to reset.
    if not settings.SUPPORTPIN_CUSTOMER_PASSWORDS:
        raise Http404


def password_reset(request):
    _customer_passwords_on()
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, now = form.cleaned_data["email"], clock.now()
        if used_up(PASSWORD_RESET, request, email, now=now):
            form.add_error(None, _("Too many requests for a link. Please try again later."))
            return render(request, "web/password_reset.html", {"form": form}, status=429)
        count(PASSWORD_RESET, request, email, now=now)
        request_password_reset(
            email=email,
            link=lambda customer, token: public_url(
                request, reverse("web:password-reset-link", args=[customer.number, token])
            ),
            now=now,
        )
        # The same page whether the address is known or not: it tells nobody which it is.
        minutes = settings.PASSWORD_RESET_TIMEOUT // 60
        return render(request, "web/password_reset_sent.html", {"email": email, "minutes": minutes})
    status = 400 if form.errors else 200
    return render(request, "web/password_reset.html", {"form": form}, status=status)


def password_reset_link(request, number: str, token: str):
    _customer_passwords_on()
    return _choose_password(
        request,
        link_valid=customer_for_password_link(number, token) is not None,
        set_password=lambda password: reset_customer_password(
            number=number, token=token, password=password, now=clock.now()
        ),
        staff=False,
    )


def staff_password_link(request, staff_id: int, token: str):
    return _choose_password(
        request,
        link_valid=staff_for_password_link(staff_id, token) is not None,
        set_password=lambda password: set_staff_password(
            staff_id=staff_id, token=token, password=password, now=clock.now()
        ),
        staff=True,
    )


def _choose_password(request, *, link_valid: bool, set_password, staff: bool):
    """The page a password link opens: the new password, twice; then on to sign in."""
    if not link_valid:
        return _link_not_valid(request, staff=staff)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not set_password(form.cleaned_data["password"]):
            return _link_not_valid(request, staff=staff)
        messages.success(request, _("Your password is changed. Sign in with it now."))
        return redirect("web:staff-login" if staff else "web:login")
    return _new_password_page(request, form)


def _new_password_page(request, form: NewPasswordForm):
    response = render(
        request, "web/new_password.html", {"form": form}, status=400 if form.errors else 200
    )
    # The token is in this page's URL: no Referer may carry it to another site.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _link_not_valid(request, *, staff: bool):
    response = render(request, "web/password_link_invalid.html", {"staff": staff}, status=400)
    response["Referrer-Policy"] = "no-referrer"
    return response

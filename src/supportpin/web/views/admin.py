"""Admin pages: supporter accounts, lockouts, failed PIN attempts, access-log integrity."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from supportpin.access.actions import unlock_supporter
from supportpin.access.models import PinAttempt
from supportpin.accounts.actions import (
    Actor,
    create_staff,
    reset_second_factor,
    reset_staff_password,
    set_staff_active,
)
from supportpin.accounts.models import Role, Staff
from supportpin.audit.models import AuditEntry, Event
from supportpin.audit.verify import verify_log
from supportpin.lib import clock
from supportpin.lib.problems import NoEmailAddress, OwnAccount, UsernameTaken
from supportpin.lib.urls import public_url
from supportpin.web.forms import StaffCreateForm
from supportpin.web.pages import ask_to_confirm, confirmed, show_problem
from supportpin.web.session import admin_required


@admin_required
def staff_list(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            create_staff(
                username=data["username"],
                display_name=data["display_name"],
                password=data["password"],
                role=Role(data["role"]),
                email=data["email"],
                now=clock.now(),
                by=Actor.admin(request.staff),
            )
        except UsernameTaken:
            form.add_error("username", _("This username is taken."))
        else:
            messages.success(
                request,
                _("%(name)s can sign in now and sets up their authenticator at first sign-in.")
                % {"name": data["display_name"]},
            )
            return redirect("web:staff-admin")
    context = {
        "form": form,
        "staff": Staff.objects.order_by("-is_active", "username"),
        "lockouts": AuditEntry.objects.filter(event=Event.SUPPORTER_BLOCKED).order_by("-id")[:20],
        "attempts": PinAttempt.objects.select_related("supporter").order_by("-at")[:50],
    }
    return render(request, "web/admin/staff.html", context, status=400 if form.errors else 200)


# Changes that cannot be undone, and the question asked before each.
CONFIRM = {
    "disable": (
        gettext_lazy(
            "Disable %(name)s? Their sessions end and their access to customers ends at once."
        ),
        gettext_lazy("Disable"),
    ),
    "reset-second-factor": (
        gettext_lazy(
            "Reset the second factor of %(name)s? Their passkeys and authenticator are removed "
            "and their sessions end; at their next sign-in they set up an authenticator again."
        ),
        gettext_lazy("Reset second factor"),
    ),
    "reset-password": (
        gettext_lazy(
            "Reset the password of %(name)s? Their password stops working and their sessions "
            "end; they get an e-mail with a link to choose a new one."
        ),
        gettext_lazy("Reset password"),
    ),
}


@require_POST
@admin_required
def staff_change(request, staff_id: int, change: str):
    staff = get_object_or_404(Staff, pk=staff_id)
    if change in CONFIRM and not confirmed(request):
        question, label = CONFIRM[change]
        return ask_to_confirm(
            request,
            question=question % {"name": staff.display_name},
            confirm_label=str(label),
            cancel_url=reverse("web:staff-admin"),
        )
    now, by = clock.now(), Actor.admin(request.staff)
    try:
        if change == "unlock":
            unlock_supporter(staff=staff, actor_kind=by.kind, actor=by.name, now=now)
            done = _("%(name)s is unlocked.")
        elif change == "reset-second-factor":
            reset_second_factor(staff=staff, now=now, by=by)
            done = _("%(name)s sets up a second factor again at their next sign-in.")
        elif change == "reset-password":
            reset_staff_password(staff=staff, link=_password_link(request), now=now, by=by)
            done = _("%(name)s gets an e-mail with a link to choose a new password.")
        else:
            set_staff_active(staff=staff, active=change == "enable", now=now, by=by)
            done = _("Saved.")
    except (OwnAccount, NoEmailAddress) as problem:
        show_problem(request, problem)
    else:
        messages.success(request, done % {"name": staff.display_name})
    return redirect("web:staff-admin")


def _password_link(request):
    def link(staff: Staff, token: str) -> str:
        return public_url(request, reverse("web:staff-password-link", args=[staff.pk, token]))

    return link


@admin_required
def audit_status(request):
    report = verify_log()
    context = {"checked": report.sealed, "breaks": report.problems}
    return render(request, "web/admin/audit.html", context)

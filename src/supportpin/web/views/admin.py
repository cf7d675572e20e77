"""Admin pages: supporter accounts, lockouts, failed PIN attempts, access-log integrity."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportpin.access.actions import unlock_supporter
from supportpin.access.models import PinAttempt
from supportpin.accounts.actions import Actor, create_staff, set_staff_active
from supportpin.accounts.models import Role, Staff
from supportpin.audit.models import ActorKind, AuditEntry, Event
from supportpin.audit.verify import verify_log
from supportpin.lib import clock
from supportpin.lib.problems import OwnAccount, UsernameTaken
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


@require_POST
@admin_required
def staff_change(request, staff_id: int, change: str):
    staff = get_object_or_404(Staff, pk=staff_id)
    if change == "disable" and not confirmed(request):
        return ask_to_confirm(
            request,
            question=_(
                "Disable %(name)s? Their sessions end and their access to customers ends at once."
            )
            % {"name": staff.display_name},
            confirm_label=_("Disable"),
            cancel_url=reverse("web:staff-admin"),
        )
    now = clock.now()
    if change == "unlock":
        unlock_supporter(
            staff=staff, actor_kind=ActorKind.ADMIN, actor=request.staff.display_name, now=now
        )
        messages.success(request, _("%(name)s is unlocked.") % {"name": staff.display_name})
    else:
        try:
            set_staff_active(
                staff=staff, active=change == "enable", now=now, by=Actor.admin(request.staff)
            )
        except OwnAccount as problem:
            show_problem(request, problem)
        else:
            messages.success(request, _("Saved."))
    return redirect("web:staff-admin")


@admin_required
def audit_status(request):
    report = verify_log()
    context = {"checked": report.sealed, "breaks": report.problems}
    return render(request, "web/admin/audit.html", context)

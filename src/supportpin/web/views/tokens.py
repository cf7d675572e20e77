"""The "API tokens" page: staff who sign in without a password make tokens for their scripts."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportpin.accounts.actions import create_session_token, sign_out
from supportpin.accounts.models import Token
from supportpin.lib import clock
from supportpin.web.session import staff_required, staff_session_ends_at


def _session_tokens(request):
    return Token.objects.filter(
        staff=request.staff,
        session_key=request.session.session_key,
        revoked_at__isnull=True,
        expires_at__gt=clock.now(),
    ).order_by("created_at")


@staff_required
def api_tokens(request):
    new = None
    if request.method == "POST":
        new = create_session_token(
            staff=request.staff,
            session_key=request.session.session_key,
            session_ends_at=staff_session_ends_at(request),
            now=clock.now(),
        )
    context = {
        "tokens": _session_tokens(request),
        "new": new,
        "idle_minutes": settings.SUPPORTPIN_STAFF_IDLE_MINUTES,
        "session_hours": settings.SUPPORTPIN_STAFF_SESSION_HOURS,
    }
    return render(request, "web/support/api_tokens.html", context, status=201 if new else 200)


@require_POST
@staff_required
def revoke_api_token(request, token_id: int):
    token = get_object_or_404(_session_tokens(request), pk=token_id)
    sign_out(token=token, now=clock.now())
    messages.success(request, _("The token is revoked."))
    return redirect("web:staff-api-tokens")

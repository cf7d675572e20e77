"""The passkeys page: staff register passkeys (WebAuthn) as their second factor, or remove them."""

import json

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportpin.accounts.actions import add_passkey, remove_passkey
from supportpin.lib import clock
from supportpin.web import passkeys
from supportpin.web.session import staff_required

NAME_MAX = 100


@staff_required
def passkey_list(request):
    context = {"passkeys": request.staff.passkeys.order_by("created_at")}
    return render(request, "web/support/passkeys.html", context)


@require_POST
@staff_required
def registration_options(request):
    options = passkeys.registration_options(request, request.staff)
    return HttpResponse(options, content_type="application/json")


@require_POST
@staff_required
def register(request):
    try:
        body = json.loads(request.body)
        name = str(body.get("name") or "").strip()[:NAME_MAX] or _("Passkey")
        verified = passkeys.verified_registration(request, body["credential"])
    except (ValueError, KeyError, AttributeError, passkeys.CeremonyFailed):
        message = _("This passkey could not be registered. Please try again.")
        return JsonResponse({"error": message}, status=400)
    add_passkey(
        staff=request.staff,
        name=name,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        now=clock.now(),
    )
    messages.success(request, _("Your passkey is registered."))
    return JsonResponse({"redirect": reverse("web:staff-passkeys")}, status=201)


@require_POST
@staff_required
def remove(request, passkey_id: int):
    passkey = get_object_or_404(request.staff.passkeys, pk=passkey_id)
    remove_passkey(passkey=passkey, now=clock.now())
    messages.success(request, _("The passkey is removed."))
    return redirect("web:staff-passkeys")

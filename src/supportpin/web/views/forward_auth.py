"""Forward auth: reverse proxies ask whether the signed-in supporter may open a proxied URL."""

import re
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from supportpin.lib import clock
from supportpin.products.actions import admit_through_proxy
from supportpin.products.models import Product
from supportpin.web.session import must_register_passkey

# The provider's product ids: a route that captures anything else (a NUL, 5,000 characters)
# names no product, rather than reaching the database with it.
PRODUCT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def product_of(request) -> Product | None:
    """Return the product the first route names in the proxied URL, or None."""
    # A proxy sets one of the two headers and passes the other on from the client: a client
    # could name another product in it, so two differing URLs are no answer at all.
    uris = {request.headers.get(h) for h in ("X-Forwarded-Uri", "X-Original-URI")} - {None}
    if len(uris) != 1:
        return None
    path = unquote(uris.pop().split("?", 1)[0])
    # The tool would resolve "/server/a/../b" to product b: a path that walks is never allowed.
    if "\\" in path or any(s.split(";", 1)[0] in {".", ".."} for s in path.split("/")):
        return None
    for route in settings.SUPPORTPIN_FORWARD_AUTH_ROUTES:
        match = route.match(path)
        if match is not None:
            if not PRODUCT_ID.fullmatch(match["product"]):
                return None
            return Product.objects.filter(pk=match["product"]).first()
    return None


@require_GET
def forward(request):
    """Answer a reverse proxy: 200 with the grant's headers, 401 no staff session, 403 no grant."""
    if request.staff is None:
        return HttpResponse("Sign in to Support-PIN as staff.", status=401)
    if must_register_passkey(request):
        return HttpResponse("Register a passkey in Support-PIN first.", status=401)
    grant = admit_through_proxy(
        supporter=request.staff, product=product_of(request), now=clock.now()
    )
    if grant is None:
        return HttpResponse("No grant for this product.", status=403)
    response = HttpResponse(status=200)
    response["X-SupportPIN-Supporter"] = request.staff.username
    response["X-SupportPIN-Grant"] = str(grant.pk)
    if grant.ends_at is not None:
        response["X-SupportPIN-Until"] = grant.ends_at.isoformat()
    return response

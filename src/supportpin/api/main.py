from ninja import NinjaAPI

from supportpin.api import auth, customer, integration, log, panel, problems, support, tickets
from supportpin.api.parsing import StrictJSONParser
from supportpin.api.rendering import ApiJSONRenderer

# The problems an operation answers beyond 422 (any) and 401/403 (any behind a token).
RAISED = {
    "POST /api/v1/auth/token": (401, 429),
    "POST /api/v1/staff/{username}/unlock": (404,),
    "POST /api/v1/customers/{number}/sign-in-links": (404,),
    "GET /api/v1/customers/{number}/support-pin": (404,),
    "POST /api/v1/customers/{number}/support-pin/rotate": (404,),
    "DELETE /api/v1/me/grants/{grant_id}": (404, 409),
    "POST /api/v1/support/pin-redemptions": (429,),
    "DELETE /api/v1/support/grants/{grant_id}": (404, 409),
    "GET /api/v1/support/customers/{number}/products": (404,),
    "GET /api/v1/support/products/{product_id}": (404,),
    "POST /api/v1/support/products/{product_id}/actions": (404,),
    "GET /api/v1/me/tickets/{ticket_id}": (404,),
    "POST /api/v1/me/tickets/{ticket_id}/messages": (404, 409),
    "GET /api/v1/me/tickets/{ticket_id}/attachments/{attachment_id}": (404,),
    "GET /api/v1/me/tickets/{ticket_id}/attachments/{attachment_id}/preview": (404,),
    "POST /api/v1/me/tickets/{ticket_id}/close": (404, 409),
    "POST /api/v1/me/tickets/{ticket_id}/reopen": (404, 409),
    "GET /api/v1/support/tickets/{ticket_id}": (404,),
    "GET /api/v1/me/access-log/{entry_id}/proof": (404, 409),
    "GET /api/v1/log/tile/{path}": (404,),
    "POST /api/v1/support/tickets/{ticket_id}/claim": (404, 409),
    "POST /api/v1/support/tickets/{ticket_id}/release": (404, 409),
    "POST /api/v1/support/tickets/{ticket_id}/messages": (404, 409),
    "GET /api/v1/support/tickets/{ticket_id}/attachments/{attachment_id}": (404,),
    "GET /api/v1/support/tickets/{ticket_id}/attachments/{attachment_id}/preview": (404,),
    "POST /api/v1/support/tickets/{ticket_id}/close": (404, 409),
    "POST /api/v1/support/tickets/{ticket_id}/reopen": (404, 409),
}


class SupportPinAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Return the OpenAPI document with each operation's problem responses."""
        schema = super().get_openapi_schema(**kwargs)
        problems.document_problems(schema, RAISED)
        return schema


api = SupportPinAPI(
    title="Support-PIN API",
    version="1",
    description="Consent-based support access: Support-PINs, grants, tickets, access log.",
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api-v1",
    parser=StrictJSONParser(),
    renderer=ApiJSONRenderer(),
)
problems.install(api)
for module in (auth, integration, panel, customer, support, log):
    api.add_router("/", module.router)
api.add_router("/", tickets.customer_router)
api.add_router("/", tickets.support_router)

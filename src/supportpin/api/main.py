from ninja import NinjaAPI

from supportpin.api import auth, customer, integration, problems, support, tickets
from supportpin.api.parsing import StrictJSONParser
from supportpin.api.rendering import ApiJSONRenderer

api = NinjaAPI(
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
for module in (auth, integration, customer, support):
    api.add_router("/", module.router)
api.add_router("/", tickets.customer_router)
api.add_router("/", tickets.support_router)

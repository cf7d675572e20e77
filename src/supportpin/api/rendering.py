"""JSON rendering: times as RFC 3339 with a numeric offset, as API.md shows them."""

from datetime import datetime

from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class ApiJSONEncoder(NinjaJSONEncoder):
    def default(self, o):
        # Django's encoder writes UTC as "Z"; the contract's examples use "+00:00".
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


class ApiJSONRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder

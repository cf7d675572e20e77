"""The API's JSON body parser: plain JSON, but no NUL characters anywhere.

PostgreSQL cannot store NUL in text and no identifier, name or message needs one, so such
input is refused up front as invalid (422) instead of failing later in the database.
"""

import json

from ninja.errors import ValidationError
from ninja.parser import Parser


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class StrictJSONParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body)
        if _contains_nul(data):
            raise ValidationError([{"loc": ("body",), "msg": "text must not contain NUL"}])
        return data

    def parse_querydict(self, data, list_fields, request):
        parsed = super().parse_querydict(data, list_fields, request)
        if _contains_nul(parsed):
            raise ValidationError([{"loc": ("query",), "msg": "text must not contain NUL"}])
        return parsed

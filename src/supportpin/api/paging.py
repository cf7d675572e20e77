"""Keyset pagination: `?cursor=` and an RFC 8288 `Link: <…>; rel="next"` header."""

from django.http import HttpRequest, HttpResponse

PAGE_SIZE = 50


def next_link(request: HttpRequest, response: HttpResponse, cursor: int | str | None) -> None:
    """Point the response at the next page when there is one."""
    if cursor is None:
        return
    query = request.GET.copy()
    query["cursor"] = str(cursor)
    url = request.build_absolute_uri(request.path) + "?" + query.urlencode()
    response["Link"] = f'<{url}>; rel="next"'

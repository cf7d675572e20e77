from django.http import HttpRequest
from ninja import Router, Status

from supportpin.accounts.actions import sign_in, sign_out
from supportpin.accounts.throttle import count_failed_sign_in, sign_in_blocked
from supportpin.api.schemas import TokenIn, TokenOut
from supportpin.api.security import any_signed_in, principal_of
from supportpin.lib import clock
from supportpin.lib.problems import InvalidCredentials, TooManySignIns

router = Router(tags=["sign-in"])


@router.post("/auth/token", response={201: TokenOut}, auth=None)
def create_token(request: HttpRequest, payload: TokenIn):
    """Sign in; staff send their current TOTP code as `otp`. Attempts are throttled (429)."""
    now = clock.now()
    if sign_in_blocked(request, payload.username, now=now):
        raise TooManySignIns()
    try:
        result = sign_in(
            username=payload.username, password=payload.password, otp=payload.otp, now=now
        )
    except InvalidCredentials:
        count_failed_sign_in(request, payload.username, now=now)
        raise
    return Status(
        201, {"token": result.token, "expires_at": result.expires_at, "role": result.role}
    )


@router.delete("/auth/token", response={204: None}, auth=any_signed_in)
def delete_token(request: HttpRequest):
    """Sign out: the token is dead at once."""
    token = principal_of(request).token
    assert token is not None  # any_signed_in admits only token holders
    sign_out(token=token, now=clock.now())
    return Status(204, None)

"""Links that let a customer or a staff member choose a new password: Django's reset tokens.

A token is an HMAC (keyed with SECRET_KEY) over the account, its password hash and the time it
was made, so it stops working once the password changes (it works once) or PASSWORD_RESET_TIMEOUT
has passed. Nothing about it is stored. Ending sessions does not end it: an admin who resets a
supporter's password and then their second factor leaves the mailed link good.
"""

from datetime import UTC, datetime

from django.contrib.auth.tokens import PasswordResetTokenGenerator

from supportpin.accounts.models import Customer, Staff
from supportpin.lib import clock


class _PasswordLinks(PasswordResetTokenGenerator):
    # Django types these for its user model; ours have the pk and password they read.
    def token_for(self, who: Customer | Staff) -> str:
        """Return a new token for a link that lets `who` choose a new password."""
        return self.make_token(who)  # type: ignore[arg-type]

    def is_good(self, who: Customer | Staff | None, token: str) -> bool:
        """Tell whether `token` is good for `who` at this moment."""
        return self.check_token(who, token)  # type: ignore[arg-type]

    def _make_hash_value(self, user: Customer | Staff, timestamp: int) -> str:  # type: ignore[override]
        return f"{user.pk}\n{user.password}\n{timestamp}"

    def _now(self) -> datetime:
        # The application clock, naive as Django's token timestamps expect.
        return clock.now().astimezone(UTC).replace(tzinfo=None)


class _CustomerPasswordLinks(_PasswordLinks):
    key_salt = "supportpin.accounts.customer-password-link"


class _StaffPasswordLinks(_PasswordLinks):
    key_salt = "supportpin.accounts.staff-password-link"


# Separate keys: a customer's token never opens a staff account's link, nor the other way round.
CUSTOMER_PASSWORD_LINKS = _CustomerPasswordLinks()
STAFF_PASSWORD_LINKS = _StaffPasswordLinks()

"""Errors the service layer raises; the API renders them as RFC 9457 problem details."""

from django.db import InterfaceError, OperationalError

# A database that is briefly away (a restart, a failover): the request changed nothing and
# may be sent again, so the API and the web answer 503 with Retry-After instead of 500.
DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


class Problem(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: list[dict] | None = None):
        self.detail = detail or self.title
        self.errors = errors
        super().__init__(self.detail)


class InvalidCredentials(Problem):
    status, code, title = 401, "invalid_credentials", "Wrong username, password or code"


class OtpRequired(Problem):
    status, code, title = 401, "otp_required", "Staff must sign in with a TOTP code"


class CustomerPasswordsOff(Problem):
    status, code, title = 403, "customer_passwords_off", "Customers sign in from their panel"


class StaffPasswordsOff(Problem):
    status, code, title = 403, "staff_passwords_off", "Staff sign in through the identity provider"


class PasskeyRequired(Problem):
    status, code, title = 403, "passkey_required", "Staff sign in with a passkey"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed for your role"


class NotFound(Problem):
    status, code, title = 404, "not_found", "Not found"


class PinInvalid(Problem):
    status, code, title = 403, "pin_invalid", "Customer number or PIN is not valid"


class TooManySignIns(Problem):
    status, code, title = 429, "too_many_sign_ins", "Too many sign-in attempts; wait a few minutes"


class TooManyAttempts(Problem):
    status, code, title = 429, "too_many_attempts", "Blocked after too many wrong PINs"

    def __init__(self, detail: str | None = None, *, admins_told: bool = False):
        super().__init__(detail)
        # Whether a notice of the block was queued to at least one admin address.
        self.admins_told = admins_told


class TicketGrant(Problem):
    status, code, title = 409, "ticket_grant", "Ticket grants end by closing the ticket"


class NotAssignee(Problem):
    status, code, title = 403, "not_assignee", "Only the supporter who holds the ticket may do this"


class TicketClaimed(Problem):
    status, code, title = 409, "ticket_claimed", "Another supporter holds this ticket"


class TicketLocked(Problem):
    status, code, title = 409, "ticket_locked", "The ticket is locked"


class TicketClosed(Problem):
    status, code, title = 409, "ticket_closed", "The ticket is closed"


class TicketClosedByCustomer(Problem):
    status, code, title = 409, "ticket_closed_by_customer", "Only the customer reopens this ticket"


class UsernameTaken(Problem):
    status, code, title = 409, "username_taken", "A staff member with this username exists"


class OwnAccount(Problem):
    status, code, title = 409, "own_account", "You cannot do this to your own account"


class NoEmailAddress(Problem):
    status, code, title = 409, "no_email_address", "The staff member has no e-mail address"


class Invalid(Problem):
    status, code, title = 422, "invalid", "Invalid input"


class NotSealedYet(Problem):
    status, code, title = 409, "not_sealed_yet", "The entry is not in a signed checkpoint yet"

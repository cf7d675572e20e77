"""Passkey ceremonies with py_webauthn: options for the browser, and checks of its answers.

The relying party id and the allowed origins come from settings (SUPPORTPIN_WEBAUTHN_*); each
challenge is kept in the session and used once.
"""

import logging

from django.conf import settings
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from supportpin.accounts.models import Passkey, Staff

log = logging.getLogger(__name__)

REGISTRATION_CHALLENGE = "passkey_registration_challenge"


class CeremonyFailed(Exception):
    """The browser's answer does not prove the passkey."""


def registration_options(request, staff: Staff) -> str:
    """Return the options for navigator.credentials.create() as JSON; keep the challenge."""
    options = generate_registration_options(
        rp_id=settings.SUPPORTPIN_WEBAUTHN_RP_ID,
        rp_name="Support-PIN",
        user_name=staff.username,
        user_id=f"supportpin-staff-{staff.pk}".encode(),
        user_display_name=staff.display_name,
        # A discoverable key: signing in needs no list of the staff member's keys.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id))
            for passkey in staff.passkeys.all()
        ],
    )
    request.session[REGISTRATION_CHALLENGE] = bytes_to_base64url(options.challenge)
    return options_to_json(options)


def verified_registration(request, credential) -> VerifiedRegistration:
    """Check the browser's new credential against the challenge of this session."""
    challenge = request.session.pop(REGISTRATION_CHALLENGE, None)
    if challenge is None:
        raise CeremonyFailed
    try:
        return verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.SUPPORTPIN_WEBAUTHN_RP_ID,
            expected_origin=settings.SUPPORTPIN_WEBAUTHN_ORIGINS,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.warning("passkey registration refused: %r", error)
        raise CeremonyFailed from error


def authentication_options() -> tuple[str, str]:
    """Return the options for navigator.credentials.get() as JSON, and the challenge to keep."""
    options = generate_authentication_options(
        rp_id=settings.SUPPORTPIN_WEBAUTHN_RP_ID,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def verified_use(credential, *, staff: Staff, challenge: str) -> tuple[Passkey, int]:
    """Check an assertion by one of `staff`'s passkeys; return the passkey and its new counter."""
    try:
        credential_id = base64url_to_bytes(credential["rawId"])
    except (ValueError, KeyError, TypeError) as error:
        raise CeremonyFailed from error
    # A removed key, or another staff member's, is simply not found.
    passkey = staff.passkeys.filter(credential_id=credential_id).first()
    if passkey is None:
        log.warning("passkey sign-in refused: not a passkey of %s", staff.username)
        raise CeremonyFailed
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.SUPPORTPIN_WEBAUTHN_RP_ID,
            expected_origin=settings.SUPPORTPIN_WEBAUTHN_ORIGINS,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.warning("passkey sign-in refused: %r", error)
        raise CeremonyFailed from error
    return passkey, verified.new_sign_count

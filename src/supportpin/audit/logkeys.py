"""The log's signing key and the verifier keys its checkpoints are checked with."""

import socket

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from supportpin.audit.note import NoteError, Signer, Verifier
from supportpin.lib.hashing import derived_key


def log_signer() -> Signer:
    """Return the key checkpoints are signed with; its name is the log's origin."""
    if settings.SUPPORTPIN_LOG_SIGNING_KEY:
        try:
            return Signer.parse(settings.SUPPORTPIN_LOG_SIGNING_KEY)
        except NoteError as error:
            # The message names what is wrong, never the key itself: it is a secret.
            raise ImproperlyConfigured(f"SUPPORTPIN_LOG_SIGNING_KEY: {error}.") from error
    if settings.DEBUG:
        return development_signer()
    raise ImproperlyConfigured(
        "SUPPORTPIN_LOG_SIGNING_KEY is not set, so the access log's checkpoints cannot be signed."
    )


def development_signer() -> Signer:
    """Return the development key: derived from SECRET_KEY, named <host>/supportpin-dev."""
    origin = f"{socket.gethostname() or 'localhost'}/supportpin-dev"
    return Signer.from_seed(origin, derived_key("supportpin transparency log signing key"))


def log_verifiers() -> list[Verifier]:
    """Return the verifier keys of the log: the signing key's, then the older ones kept."""
    verifiers = [log_signer().verifier]
    for vkey in settings.SUPPORTPIN_LOG_PUBLIC_KEYS:
        try:
            verifier = Verifier.parse(vkey)
        except NoteError as error:
            raise ImproperlyConfigured(f"SUPPORTPIN_LOG_PUBLIC_KEYS: {vkey!r}: {error}.") from error
        if verifier not in verifiers:
            verifiers.append(verifier)
    return verifiers

from django.conf import settings
from django.db import models
from django.db.models import Expression, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


class CustomerQuerySet(models.QuerySet):
    def numbered(self, number: str | Expression) -> "CustomerQuerySet":
        """Keep the customer that `number` (or a prepared query's `Param`) names in any
        spelling of its case."""
        named = number if isinstance(number, Expression) else Value(number)
        return self.alias(number_upper=Upper("number")).filter(number_upper=Upper(named))


class Language(models.TextChoices):
    """The languages the web UI and the e-mails speak."""

    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")


def default_language() -> str:
    return settings.LANGUAGE_CODE


class Customer(models.Model):
    """A customer of the provider, known to staff only by `number`."""

    number = models.CharField(max_length=64, primary_key=True)
    password = models.CharField(max_length=255, blank=True)
    # The language of the customer's e-mails ("de" or "en"), set by the billing system.
    language = models.CharField(max_length=8, choices=Language.choices, default=default_language)
    # Raised when every session must end (a new password): a web session signed in under an
    # older value is over.
    sessions_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = CustomerQuerySet.as_manager()

    class Meta:
        constraints = [
            # "k10001" and "K10001" are one customer: two spellings can never be two rows, and
            # `numbered()` finds a customer through this index.
            models.UniqueConstraint(Upper("number"), name="customer_number_any_case_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class PersonalData(models.Model):
    """The customer's personal data (Kundendaten), apart so staff-facing queries never load it."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="personal_data"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, db_index=True)
    phone = models.CharField(max_length=64, blank=True)
    street = models.CharField(max_length=200, blank=True)
    zip_code = models.CharField(max_length=32, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)


class Role(models.TextChoices):
    SUPPORTER = "supporter"
    ADMIN = "admin"


class Staff(models.Model):
    """A supporter or admin; signs in with password and TOTP, sees no personal data."""

    username = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=100)
    password = models.CharField(max_length=255)
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    email = models.EmailField(blank=True)
    otp_secret = models.CharField(max_length=64)
    # Set once the staff member proved their authenticator works; until then the web sign-in
    # shows the secret as a QR code after the password.
    otp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The highest TOTP time step accepted so far: a code is good once.
    otp_last_step = models.BigIntegerField(default=0)
    # Set when too many wrong PINs block redemptions; cleared by an admin's unlock.
    blocked_at = models.DateTimeField(null=True, blank=True)
    # Wrong PINs before the last unlock no longer count towards a block.
    unlocked_at = models.DateTimeField(null=True, blank=True)
    # Raised when every session must end (new password, disabled, sessions ended by an admin):
    # a web session signed in under an older value is over.
    sessions_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Passkey(models.Model):
    """A staff member's WebAuthn credential: a second factor next to, or instead of, TOTP."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    # The authenticator's signature counter: one that goes backwards betrays a cloned key.
    sign_count = models.BigIntegerField(default=0)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Token(models.Model):
    """A signed-in session of a customer or a staff member; only its digest is stored."""

    digest = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.CASCADE)
    staff = models.ForeignKey(Staff, null=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)  # housekeeping deletes ended tokens
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The web session a staff member created this token in ("API tokens" page): the token is
    # dead once that session is (signed out, idle, expired). Empty for API sign-ins.
    session_key = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=True) ^ models.Q(staff__isnull=True),
                name="token_has_one_principal",
            )
        ]


class ApiKey(models.Model):
    """A key for the provider's billing system; only its digest is stored."""

    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class SignInFailures(models.Model):
    """Failed sign-ins of one client address or one login in one throttling window.

    Kept in the database so every app process sees the same count.
    """

    key = models.CharField(max_length=300, primary_key=True)
    window_ends_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "sign-in failures"


class SignInLink(models.Model):
    """A one-time link from the provider's panel that signs a customer in; stored as a digest."""

    digest = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    next = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)  # housekeeping deletes old links
    used_at = models.DateTimeField(null=True, blank=True)

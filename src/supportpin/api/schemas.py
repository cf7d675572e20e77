"""Request and response shapes of API v1 (API.md "Objects")."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
RequiredText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)
]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenIn(Schema):
    username: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Secret
    otp: Annotated[str, StringConstraints(max_length=16)] | None = None


class TokenOut(Schema):
    token: str
    expires_at: datetime
    role: Literal["customer", "supporter", "admin"]


class AddressIn(Schema):
    street: Text = ""
    zip: Annotated[str, StringConstraints(max_length=32)] = ""
    city: Text = ""
    country: Text = ""


class CustomerIn(Schema):
    name: RequiredText
    email: Email
    password: Secret | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] = ""
    address: AddressIn | None = None
    # The language of the customer's e-mails; left out: LANGUAGE_CODE ("de") for a new customer,
    # else unchanged.
    language: Literal["de", "en"] | None = None


class ProductIn(Schema):
    customer: Identifier
    type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
    name: RequiredText
    status: Annotated[str, StringConstraints(min_length=1, max_length=32)] = "active"
    details: dict = Field(default_factory=dict)


class StaffIn(Schema):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    role: Literal["supporter", "admin"]
    active: bool = True
    email: Email | Literal[""] = ""


class StaffOut(Schema):
    username: str
    display_name: str
    role: str
    active: bool
    otp_secret: str | None = None


class DecisionOut(Schema):
    allowed: bool
    basis: Literal["pin", "ticket"] | None
    grant_id: int | None
    until: datetime | None


class ProfileAddress(Schema):
    street: str
    zip: str
    city: str
    country: str


class ProfileOut(Schema):
    number: str
    name: str
    email: str
    phone: str
    address: ProfileAddress
    language: str


class ProductOut(Schema):
    id: str
    customer: str
    type: str
    name: str
    status: str
    details: dict


class PinOut(Schema):
    pin: str
    pin_display: str = Field(description="The PIN grouped for reading aloud, e.g. `482 913`.")
    issued_at: datetime
    expires_at: datetime
    state: Literal["active", "redeemed"]
    redeemed_by: str | None


class GrantOut(Schema):
    id: int
    basis: Literal["pin", "ticket"]
    customer: str
    supporter: str
    ticket: int | None = None
    started_at: datetime
    until: datetime | None


class AccessLogEntryOut(Schema):
    id: int
    # The entry's place in the transparency log; null until the sealer gave it one.
    leaf_index: int | None
    sealed: bool
    at: datetime
    event: str
    actor: str
    actor_role: str
    product: str | None
    basis: Literal["pin", "ticket"] | None
    grant_id: int | None
    ticket: int | None
    detail: dict


class EntryProofOut(Schema):
    leaf_index: int
    leaf: str
    checkpoint: str
    proof: list[str]


class RedemptionIn(Schema):
    customer: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    pin: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ActionIn(Schema):
    action: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Accepted(Schema):
    status: Literal["accepted"] = "accepted"


Body = Annotated[str, StringConstraints(min_length=1, max_length=10000)]


class TicketIn(Schema):
    subject: RequiredText
    message: Body
    products: list[Identifier] = Field(default_factory=list, max_length=50)
    follows: int | None = Field(default=None, ge=1)


class MessageIn(Schema):
    body: Body


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    # True when the content is a PNG, JPEG, GIF or WebP image: it then has a preview.
    preview: bool


class MessageOut(Schema):
    id: int
    author_role: Literal["customer", "supporter"]
    author: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut]


class TicketOut(Schema):
    id: int
    customer: str
    subject: str
    status: Literal["open", "answered", "closed"]
    locked: bool
    assignee: str | None
    products: list[str]
    follows: int | None
    created_at: datetime
    updated_at: datetime
    autocloses_at: datetime | None = Field(
        description="When an answered ticket closes by itself unless the customer replies."
    )
    locks_at: datetime = Field(description="When the ticket is locked for good.")


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]

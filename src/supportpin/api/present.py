"""Turn domain objects into the API's response objects."""

from datetime import datetime

from supportpin.access.models import Grant, SupportPin
from supportpin.accounts.models import Customer, Staff
from supportpin.audit.models import AuditEntry
from supportpin.products.models import Product
from supportpin.tickets.models import Message, Ticket


def product(p: Product) -> dict:
    return {
        "id": p.pk,
        "customer": p.customer_id,
        "type": p.type,
        "name": p.name,
        "status": p.status,
        "details": p.details,
    }


def grant(g: Grant) -> dict:
    return {
        "id": g.pk,
        "basis": g.basis,
        "customer": g.customer_id,
        "supporter": g.supporter.display_name,
        "ticket": g.ticket_id,
        "started_at": g.started_at,
        "until": g.ends_at,
    }


def support_pin(pin: SupportPin) -> dict:
    digits = pin.pin
    return {
        "pin": digits,
        "pin_display": group_for_reading(digits),
        "issued_at": pin.issued_at,
        "expires_at": pin.expires_at,
        "state": "redeemed" if pin.redeemed_by_id else "active",
        "redeemed_by": pin.redeemed_by.display_name if pin.redeemed_by else None,
    }


def group_for_reading(digits: str) -> str:
    """Group a PIN in threes (the last group may be shorter) for reading aloud: `482 913`."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def profile(customer: Customer) -> dict:
    personal = customer.personal_data
    return {
        "number": customer.number,
        "name": personal.name,
        "email": personal.email,
        "phone": personal.phone,
        "address": {
            "street": personal.street,
            "zip": personal.zip_code,
            "city": personal.city,
            "country": personal.country,
        },
        "language": customer.language,
    }


def staff(s: Staff, otp_secret: str | None = None) -> dict:
    return {
        "username": s.username,
        "display_name": s.display_name,
        "role": s.role,
        "active": s.is_active,
        "otp_secret": otp_secret,
    }


def access_log_entry(entry: AuditEntry) -> dict:
    return {
        "id": entry.pk,
        "leaf_index": entry.leaf_index,
        "sealed": entry.leaf_index is not None,
        "at": entry.at,
        "event": entry.event,
        "actor": entry.actor,
        "actor_role": entry.actor_kind,
        "product": entry.product or None,
        "basis": entry.basis or None,
        "grant_id": entry.grant_id,
        "ticket": entry.ticket_id,
        "detail": entry.detail,
    }


def ticket(t: Ticket, now: datetime, *, messages: list[Message] | None = None) -> dict:
    body = {
        "id": t.pk,
        "customer": t.customer_id,
        "subject": t.subject,
        "status": t.status_at(now),
        "locked": t.is_locked(now),
        "assignee": t.assignee.display_name if t.assignee else None,
        "products": sorted(p.pk for p in t.products.all()),
        "follows": t.follows_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "autocloses_at": t.autocloses_at() if t.status_at(now) != "closed" else None,
        "locks_at": t.locks_at(),
    }
    if messages is not None:
        body["messages"] = [message(m) for m in messages]
    return body


def message(m: Message) -> dict:
    staff = m.author_staff if m.author_role == "supporter" else None
    return {
        "id": m.pk,
        "author_role": m.author_role,
        "author": staff.display_name if staff else m.ticket.customer_id,
        "body": m.body,
        "created_at": m.created_at,
        "attachments": [
            {"id": a.pk, "name": a.name, "size": a.size, "preview": bool(a.image_type)}
            for a in m.attachments.all()
        ],
    }

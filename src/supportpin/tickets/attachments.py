"""Files on ticket messages: limits, the image check, and storing them."""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import FileResponse
from PIL import Image, UnidentifiedImageError

from supportpin.lib.problems import Invalid, NotFound
from supportpin.tickets.models import Attachment, Message, Ticket

# Raster formats a browser shows without running anything; SVG (a script carrier) is absent.
PREVIEW_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
NAME_LENGTH = 200


def check_files(files: Sequence[UploadedFile]) -> None:
    """Refuse too many or too large files before anything is written."""
    limit = settings.SUPPORTPIN_ATTACHMENTS_PER_MESSAGE
    if len(files) > limit:
        raise Invalid(
            f"Attach at most {limit} files to one message.",
            errors=[{"field": "files", "message": f"at most {limit} files"}],
        )
    largest = settings.SUPPORTPIN_ATTACHMENT_MAX_BYTES
    for upload in files:
        if upload.size is None or upload.size > largest:
            raise Invalid(
                f"{_name(upload)} is larger than {largest // 2**20} MiB.",
                errors=[{"field": "files", "message": f"larger than {largest} bytes"}],
            )
        if upload.size == 0:
            raise Invalid(
                f"{_name(upload)} is empty.",
                errors=[{"field": "files", "message": "empty file"}],
            )


def store(message: Message, files: Sequence[UploadedFile], now: datetime) -> list[Attachment]:
    """Save the files of a message under random names, in the caller's transaction."""
    attachments = []
    for upload in files:
        attachment = Attachment(
            message=message,
            name=_name(upload),
            size=upload.size or 0,
            image_type=_image_type(upload),
            created_at=now,
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()
        attachments.append(attachment)
    return attachments


def audit_detail(attachments: list[Attachment]) -> dict:
    """Name the files in the message's audit entry (names and sizes, never the content)."""
    if not attachments:
        return {}
    return {"attachments": [{"name": a.name, "size": a.size} for a in attachments]}


def _name(upload: UploadedFile) -> str:
    # The name is shown and offered on download only; strip what a header or path would misread.
    raw = (upload.name or "").replace("\x00", "").replace("/", "_").replace("\\", "_")
    name = "".join(c for c in raw if c.isprintable()).strip() or "file"
    return name[-NAME_LENGTH:]


def _image_type(upload: UploadedFile) -> str:
    """Return the MIME type when the content is a safe raster image, judged by Pillow."""
    try:
        with Image.open(upload) as image:
            image.verify()
            kind = PREVIEW_TYPES.get(image.format or "", "")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = ""
    upload.seek(0)
    return kind


def find(tickets: QuerySet[Ticket], ticket_id: int, attachment_id: int) -> Attachment:
    """Return an attachment of one of `tickets` (those the reader may read), or NotFound."""
    found = Attachment.objects.filter(
        pk=attachment_id, message__ticket_id=ticket_id, message__ticket__in=tickets
    ).first()
    if found is None:
        raise NotFound("No attachment with this id on this ticket.")
    return found


def serve(attachment: Attachment, *, preview: bool) -> FileResponse:
    """Answer with the file: a download always; inline only a checked image, in a sandbox."""
    if preview and not attachment.image_type:
        raise NotFound("This attachment has no preview.")
    kind = attachment.image_type if preview else "application/octet-stream"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not preview,
        filename=attachment.name,
        content_type=kind,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # The sandbox keeps even a crafted image from running script or reaching our cookies.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response

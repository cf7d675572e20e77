"""The transparency log's public endpoints: checkpoint, key, consistency proofs, hash tiles."""

import base64

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from supportpin.audit.logkeys import log_signer
from supportpin.audit.queries import log_consistency, published_checkpoint, tile_bytes
from supportpin.lib.problems import NotFound

# Public: the log holds hashes and signatures only, never an entry's content.
router = Router(tags=["transparency log"], auth=None)


class ConsistencyQuery(Schema):
    from_: int = Field(alias="from", ge=1)
    to: int = Field(ge=1)


class ConsistencyOut(Schema):
    from_: int = Field(alias="from")
    to: int
    proof: list[str]


def text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@router.get("/log/checkpoint", response={200: str})
def get_checkpoint(request: HttpRequest):
    """The newest checkpoint (C2SP tlog-checkpoint in a signed note) with its witnesses'
    cosignatures (C2SP tlog-cosignature) after the log's signature."""
    return text(published_checkpoint())


@router.get("/log/public-key", response={200: str})
def get_public_key(request: HttpRequest):
    """The note verifier key the log's checkpoints are signed with."""
    return text(str(log_signer().verifier))


@router.get("/log/consistency", response=ConsistencyOut, by_alias=True)
def get_consistency(request: HttpRequest, sizes: Query[ConsistencyQuery]):
    """The RFC 9162 proof that the tree of `from` leaves is a prefix of the tree of `to`."""
    proof = log_consistency(sizes.from_, sizes.to)
    encoded = [base64.b64encode(h).decode() for h in proof]
    return {"from": sizes.from_, "to": sizes.to, "proof": encoded}


@router.get("/log/tile/{path:path}", response={200: bytes})
def get_tile(request: HttpRequest, path: str):
    """A C2SP tlog-tiles hash tile, e.g. tile/0/000.p/17; no entry tiles: entries are private."""
    data = tile_bytes(f"tile/{path}")
    if data is None:
        raise NotFound("No hash tile at this path.")
    response = HttpResponse(data, content_type="application/octet-stream")
    # A full tile never changes; a partial one is cut to the width its path names.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

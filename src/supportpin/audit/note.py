"""C2SP signed notes with Ed25519 keys in Go's sumdb/note formats, and tlog checkpoints.

Signer key:   PRIVATE+KEY+<name>+<hex key hash>+<base64 of 0x01 ‖ 32-byte seed>
Verifier key: <name>+<hex key hash>+<base64 of 0x01 ‖ 32-byte public key>
Key hash:     the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), big-endian.
Signed note:  text ending in a newline, a blank line, then lines "— <name> <base64 of key hash ‖
              signature>" (C2SP signed-note).
Cosignature:  a witness's signature line on a checkpoint (C2SP tlog-cosignature, cosignature/v1):
              "— <witness> <base64 of key hash ‖ 8-byte timestamp ‖ Ed25519 signature>", over
              "cosignature/v1\ntime <timestamp>\n" and the checkpoint text. Its verifier key has
              type 0x04: <name>+<hex key hash>+<base64 of 0x04 ‖ 32-byte public key>.
"""

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "— "
# Go's note package refuses notes with more; C2SP asks verifiers to take at least 16.
MAX_SIGNATURES = 100
_KEY_HASH = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A key, note or checkpoint is malformed, or a note carries no valid known signature."""


def key_hash(name: str, public_key: bytes, key_type: int = ED25519) -> int:
    """Return the note key hash of `name`'s Ed25519 `public_key` (32 raw bytes) for `key_type`."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def is_valid_name(name: str) -> bool:
    """Return whether `name` may name a key (and so a log's origin): no spaces, no plus."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


@dataclass(frozen=True)
class Verifier:
    """A public note key: checks signatures by `name`'s key."""

    name: str
    key_hash: int
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> "Verifier":
        """Return the verifier of a verifier key string; raise NoteError if it is malformed."""
        name, hash_hex, key = _split_key(vkey, 3, "verifier key")
        public_key = _ed25519_key(key, "verifier key")
        if int(hash_hex, 16) != key_hash(name, public_key):
            raise NoteError("verifier key: the key hash does not match the name and key")
        return cls(name=name, key_hash=key_hash(name, public_key), public_key=public_key)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash:08x}+{key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether `signature` is this key's Ed25519 signature of `message`."""
        return _verify_ed25519(self.public_key, message, signature)


@dataclass(frozen=True)
class Signer:
    """A private note key: signs notes as `name`."""

    name: str
    seed: bytes = field(repr=False)

    @classmethod
    def parse(cls, skey: str) -> "Signer":
        """Return the signer of a signer key string; raise NoteError if it is malformed."""
        if not skey.startswith("PRIVATE+KEY+"):
            raise NoteError("signer key: it does not start with PRIVATE+KEY+")
        name, hash_hex, key = _split_key(skey.removeprefix("PRIVATE+KEY+"), 3, "signer key")
        signer = cls.from_seed(name, _ed25519_key(key, "signer key"))
        # The hash names the public key, which only the seed gives: check it after deriving.
        if int(hash_hex, 16) != signer.verifier.key_hash:
            raise NoteError("signer key: the key hash does not match the name and key")
        return signer

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> "Signer":
        """Return `name`'s signer for a 32-byte Ed25519 seed."""
        if not is_valid_name(name):
            raise NoteError(f"key name {name!r}: it must be non-empty, with no spaces and no +")
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed has 32 bytes")
        return cls(name=name, seed=seed)

    @classmethod
    def generate(cls, name: str) -> "Signer":
        """Return a new random signer named `name`."""
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes_raw()
        return cls.from_seed(name, seed)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_hash:08x}+{key}"

    @property
    def verifier(self) -> Verifier:
        """Return the verifier of this signer's public key."""
        public_key = self._private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(
            name=self.name, key_hash=key_hash(self.name, public_key), public_key=public_key
        )

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of `message`."""
        return self._private_key().sign(message)

    def _private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)


def sign_note(text: str, signer: Signer) -> str:
    """Return `text` as a signed note carrying `signer`'s signature."""
    _check_note_text(text)
    if not text.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    verifier = signer.verifier
    blob = verifier.key_hash.to_bytes(4, "big") + signer.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n"


def open_note(note: str, verifiers: Sequence[Verifier]) -> tuple[str, list[Verifier]]:
    """Return a signed note's text and the known keys that signed it.

    Signatures by keys not in `verifiers` are ignored; a known key's bad signature, or no
    valid signature by a known key, raises NoteError.
    """
    text, lines = split_note(note)
    known = {(v.name, v.key_hash): v for v in verifiers}
    signed_by: list[Verifier] = []
    for line in lines:
        name, blob = _signature(line)
        verifier = known.get((name, int.from_bytes(blob[:4], "big")))
        if verifier is None or verifier in signed_by:
            continue
        if not verifier.verify(text.encode(), blob[4:]):
            raise NoteError(f"invalid signature by {name}+{verifier.key_hash:08x}")
        signed_by.append(verifier)
    if not signed_by:
        raise NoteError("the note has no valid signature by a known key")
    return text, signed_by


def split_note(note: str) -> tuple[str, list[str]]:
    """Return a signed note's text and its signature lines, unchecked; raise if malformed."""
    _check_note_text(note)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("malformed note: no signature block after a blank line")
    lines = note[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return note[: split + 1], lines


@dataclass(frozen=True)
class Cosignature:
    """A witness's valid cosignature of a checkpoint: its signature line and its timestamp."""

    line: str
    timestamp: int


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's public key: checks its C2SP cosignature/v1 signatures of checkpoints."""

    name: str
    key_hash: int
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> "CosignatureVerifier":
        """Return the verifier of a witness verifier key (type 0x04); raise NoteError if bad."""
        name, hash_hex, key = _split_key(vkey, 3, "witness key")
        public_key = _ed25519_key(key, "witness key", COSIGNATURE_V1)
        expected = key_hash(name, public_key, COSIGNATURE_V1)
        if int(hash_hex, 16) != expected:
            raise NoteError("witness key: the key hash does not match the name and key")
        return cls(name=name, key_hash=expected, public_key=public_key)

    def __str__(self) -> str:
        key = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash:08x}+{key}"

    def cosignature(self, text: str, lines: Sequence[str]) -> Cosignature | None:
        """Return this witness's cosignature of checkpoint `text` among signature `lines`.

        None when no line is by this key; a line by this key that does not verify raises
        NoteError, as a known key's bad signature does in a note.
        """
        for line in lines:
            name, blob = _signature(line)
            if name != self.name or int.from_bytes(blob[:4], "big") != self.key_hash:
                continue
            if len(blob) != 4 + 8 + 64:
                raise NoteError(f"malformed cosignature by {self}: {len(blob)} bytes")
            timestamp = int.from_bytes(blob[4:12], "big")
            message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
            if timestamp >= 2**63 or not _verify_ed25519(self.public_key, message, blob[12:]):
                raise NoteError(f"invalid cosignature by {self.name}+{self.key_hash:08x}")
            return Cosignature(line=line, timestamp=timestamp)
        return None


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """Return the checkpoint as note text."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """Return the checkpoint a note text holds; raise NoteError if it is malformed."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint: the text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise NoteError("checkpoint: it needs origin, size and root hash lines, none empty")
        origin, size, root = lines[:3]
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint: tree size {size!r} is no decimal number")
        root_hash = _b64decode(root)
        if root_hash is None or len(root_hash) != 32:
            raise NoteError("checkpoint: the root hash is not 32 bytes in base64")
        return cls(origin=origin, size=int(size), root_hash=root_hash, extensions=tuple(lines[3:]))


def _split_key(key: str, parts: int, what: str) -> list[str]:
    # The last part is base64, which may itself contain "+".
    fields = key.split("+", parts - 1)
    if len(fields) != parts or not is_valid_name(fields[0]) or not _KEY_HASH.fullmatch(fields[1]):
        raise NoteError(f"{what}: expected <name>+<8 hex digits>+<base64 key>")
    return fields


def _ed25519_key(encoded: str, what: str, key_type: int = ED25519) -> bytes:
    raw = _b64decode(encoded)
    if raw is None or len(raw) != 33:
        raise NoteError(f"{what}: the key is not 33 bytes in base64")
    if raw[0] != key_type:
        raise NoteError(f"{what}: key type {raw[0]}, expected {key_type}")
    return raw[1:]


def _signature(line: str) -> tuple[str, bytes]:
    # A signature line: "— <key name> <base64 of 4-byte key hash ‖ signature>".
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    blob = _b64decode(encoded) if line.startswith(SIGNATURE_PREFIX) else None
    if blob is None or len(blob) < 5 or not is_valid_name(name):
        raise NoteError(f"malformed note: bad signature line {line!r}")
    return name, blob


def _verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _b64decode(encoded: str) -> bytes | None:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_note_text(note: str) -> None:
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("malformed note: control characters other than newline")

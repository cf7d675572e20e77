"""A small C2SP tlog-witness for tests, written apart from the service's code.

It serves `POST /add-checkpoint` on a free local port, trusts one log key, keeps the newest
cosigned size and root per origin, checks consistency proofs with its own RFC 9162 §2.1.4.2
verifier, and cosigns with cosignature/v1 (timestamped Ed25519, key type 0x04). Nothing here
imports the service, so a test's oracle is never the code it checks.
"""

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAX_PROOF_LINES = 63


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    return _sha256(name.encode() + b"\n" + bytes([key_type]) + public_key)[:4]


def consistent(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof) -> bool:
    """Return whether `proof` shows the tree of `old_size` is a prefix of `new_size`'s.

    RFC 9162 §2.1.4.2, step by step, for 0 < old_size < new_size.
    """
    if not 0 < old_size < new_size:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root starts the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr)
            sr = _sha256(b"\x01" + c + sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = _sha256(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


@dataclass(frozen=True)
class Submission:
    """One add-checkpoint request as the witness received it, and how it answered."""

    old: int
    size: int
    status: int


class TestWitness:
    """A tlog-witness for the log whose verifier key is `log_vkey`, cosigning as `name`."""

    __test__ = False  # not a test class, despite its name

    def __init__(self, log_vkey: str, *, name: str = "witness.example/w1"):
        origin, key_id, key = log_vkey.split("+", 2)
        raw = base64.b64decode(key)
        assert raw[0] == 0x01 and len(raw) == 33
        self.origin, self.log_key_id = origin, bytes.fromhex(key_id)
        self.log_key = Ed25519PublicKey.from_public_bytes(raw[1:])
        self.name = name
        self._private = Ed25519PrivateKey.generate()
        self.public_key = self._private.public_key().public_bytes_raw()
        # origin -> (size, root hash) of the newest checkpoint cosigned; checked and updated
        # under one lock, as the spec asks (else a slow older request could roll it back).
        self.cosigned: dict[str, tuple[int, bytes]] = {}
        self._state = threading.Lock()
        self.submissions: list[Submission] = []
        # When set, cosignatures carry a broken signature under the right key id.
        self.forge = False
        # Signature lines sent before the witness's own (say, by a second key it also runs).
        self.extra_lines: list[str] = []
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def vkey(self) -> str:
        """The witness's verifier key: <name>+<hex key id>+<base64 of 0x04 ‖ public key>."""
        key = base64.b64encode(b"\x04" + self.public_key).decode()
        return f"{self.name}+{_key_id(self.name, 0x04, self.public_key).hex()}+{key}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the witness's port, with the state it had."""
        witness = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path != "/add-checkpoint":
                    status, content_type, answer = 404, "text/plain", b"not found\n"
                else:
                    status, content_type, answer = witness.add_checkpoint(body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop answering: connections to the witness's port are refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.server = None

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        """Answer one add-checkpoint request body: (status, content type, body)."""
        try:
            request = body.decode()
            head, _, note = request.partition("\n\n")
            lines = head.split("\n")
            if not lines[0].startswith("old ") or len(lines) - 1 > MAX_PROOF_LINES:
                return 400, "text/plain", b"bad request\n"
            old = int(lines[0].removeprefix("old "))
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            text, _, signatures = note.rpartition("\n\n")
            text += "\n"
            origin, size_line, root_line = text.split("\n")[:3]
            size, root = int(size_line), base64.b64decode(root_line, validate=True)
        except (UnicodeDecodeError, ValueError, binascii.Error):
            return 400, "text/plain", b"bad request\n"
        if origin != self.origin:
            return 404, "text/plain", b"unknown log\n"
        if not self._signed_by_log(text, signatures):
            return 403, "text/plain", b"no valid signature by a trusted key\n"
        if old > size:
            return 400, "text/plain", b"old size beyond the checkpoint\n"
        with self._state:
            known_size, known_root = self.cosigned.get(origin, (0, b""))
            # Another size than the one cosigned, or that size with another root: a conflict.
            if old != known_size or (old == size and root != known_root):
                status, content_type, answer = 409, "text/x.tlog.size", f"{known_size}\n".encode()
            elif old == 0 and proof:
                status, content_type, answer = 422, "text/plain", b"proof from size 0\n"
            elif 0 < old < size and not consistent(old, size, known_root, root, proof):
                status, content_type, answer = 422, "text/plain", b"inconsistent\n"
            else:
                self.cosigned[origin] = (size, root)
                status, content_type, answer = 200, "text/plain", self._cosign(text)
            self.submissions.append(Submission(old=old, size=size, status=status))
        return status, content_type, answer

    def verify(self, text: str, line: str) -> int | None:
        """Return the timestamp of `line` if it is this witness's valid cosignature of `text`."""
        name, _, encoded = line.removeprefix("— ").partition(" ")
        blob = base64.b64decode(encoded)
        if name != self.name or blob[:4] != _key_id(self.name, 0x04, self.public_key):
            return None
        timestamp = int.from_bytes(blob[4:12], "big")
        message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
        try:
            self._private.public_key().verify(blob[12:], message)
        except InvalidSignature:
            return None
        return timestamp

    def _signed_by_log(self, text: str, signatures: str) -> bool:
        for line in signatures.split("\n"):
            name, _, encoded = line.removeprefix("— ").partition(" ")
            try:
                blob = base64.b64decode(encoded, validate=True)
            except (ValueError, binascii.Error):
                continue
            if name == self.origin and blob[:4] == self.log_key_id:
                try:
                    self.log_key.verify(blob[4:], text.encode())
                except InvalidSignature:
                    return False
                return True
        return False

    def _cosign(self, text: str) -> bytes:
        timestamp = int(time.time())
        message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
        signature = self._private.sign(message)
        if self.forge:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        key_id = _key_id(self.name, 0x04, self.public_key)
        blob = key_id + timestamp.to_bytes(8, "big") + signature
        lines = [*self.extra_lines, f"— {self.name} {base64.b64encode(blob).decode()}"]
        return "".join(f"{line}\n" for line in lines).encode()

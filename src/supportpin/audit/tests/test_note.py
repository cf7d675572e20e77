"""Signed notes and checkpoints, against the vectors of Go's golang.org/x/mod/sumdb/note."""

import base64

from django.test import SimpleTestCase

from supportpin.audit.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_note,
    sign_note,
)

# From golang.org/x/mod sumdb/note/note_test.go (TestNewSigner, TestSign, TestOpen) at commit
# fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGU"
    "gYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp"
    "+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


class GoVectorTests(SimpleTestCase):
    def test_it_reads_go_s_keys(self):
        signer = Signer.parse(PETER_SKEY)
        self.assertEqual(signer.name, "PeterNeumann")
        self.assertEqual(str(signer.verifier), PETER_VKEY)
        self.assertEqual(Verifier.parse(PETER_VKEY), signer.verifier)
        self.assertEqual(str(Verifier.parse(ENOCH_VKEY)), ENOCH_VKEY)
        self.assertEqual(str(signer), PETER_SKEY)

    def test_it_signs_exactly_as_go_does(self):
        self.assertEqual(sign_note(TEXT, Signer.parse(PETER_SKEY)), f"{TEXT}\n{PETER_SIG}")

    def test_it_opens_go_s_signed_note(self):
        text, signed_by = open_note(f"{TEXT}\n{PETER_SIG}", [Verifier.parse(PETER_VKEY)])
        self.assertEqual(text, TEXT)
        self.assertEqual([str(v) for v in signed_by], [PETER_VKEY])

    def test_it_ignores_signatures_by_unknown_keys(self):
        note = f"{TEXT}\n{PETER_SIG}{ENOCH_SIG}"
        _, signed_by = open_note(note, [Verifier.parse(PETER_VKEY)])
        self.assertEqual([v.name for v in signed_by], ["PeterNeumann"])
        _, signed_by = open_note(note, [Verifier.parse(PETER_VKEY), Verifier.parse(ENOCH_VKEY)])
        self.assertEqual([v.name for v in signed_by], ["PeterNeumann", "EnochRoot"])

    def test_it_refuses_a_note_signed_only_by_unknown_keys(self):
        with self.assertRaisesMessage(NoteError, "no valid signature by a known key"):
            open_note(f"{TEXT}\n{ENOCH_SIG}", [Verifier.parse(PETER_VKEY)])
        with self.assertRaisesMessage(NoteError, "no valid signature by a known key"):
            open_note(f"{TEXT}\n{PETER_SIG}", [])

    def test_it_refuses_a_note_with_a_changed_byte(self):
        peter = Verifier.parse(PETER_VKEY)
        changed_text = TEXT.replace("answer", "answet")
        with self.assertRaisesMessage(NoteError, "invalid signature by PeterNeumann+c74f20a3"):
            open_note(f"{changed_text}\n{PETER_SIG}", [peter])
        # From Go's TestOpen: "ABCD" spliced into the signature.
        with self.assertRaisesMessage(NoteError, "invalid signature by PeterNeumann+c74f20a3"):
            open_note(f"{TEXT}\n{PETER_SIG[:60]}ABCD{PETER_SIG[60:]}", [peter])

    def test_it_refuses_a_signature_by_another_key_under_the_same_name(self):
        impostor = Signer.generate("PeterNeumann")
        with self.assertRaises(NoteError):
            open_note(sign_note(TEXT, impostor), [Verifier.parse(PETER_VKEY)])

    def test_it_refuses_every_mangled_key(self):
        # As Go's TestNewVerifier and TestNewSigner: every part and every changed byte fails.
        for key, parse in [(PETER_VKEY, Verifier.parse), (PETER_SKEY, Signer.parse)]:
            for i in range(len(key) + 1):
                for j in range(i + 1, len(key) + 1):
                    if (i, j) != (0, len(key)):
                        with self.assertRaises(NoteError, msg=key[i:j]):
                            parse(key[i:j])
            for i in range(len(key)):
                mangled = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
                with self.assertRaises(NoteError, msg=mangled):
                    parse(mangled)

    def test_it_refuses_a_key_of_another_type_or_length(self):
        # Go's TestNewVerifier: a wrong-length key and an unknown algorithm, each with its hash.
        for vkey in [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ]:
            with self.assertRaises(NoteError):
                Verifier.parse(vkey)


class NoteFormatTests(SimpleTestCase):
    def test_a_generated_key_round_trips_and_signs(self):
        signer = Signer.generate("support.example.com/log")
        again = Signer.parse(str(signer))
        self.assertEqual(again, signer)
        verifier = Verifier.parse(str(signer.verifier))
        text, signed_by = open_note(sign_note("hello\n", again), [verifier])
        self.assertEqual((text, signed_by), ("hello\n", [verifier]))

    def test_it_refuses_malformed_notes(self):
        peter = Verifier.parse(PETER_VKEY)
        for note in [
            TEXT + PETER_SIG,  # no blank line before the signatures
            f"{TEXT}\n{PETER_SIG.rstrip()}",  # no final newline
            f"{TEXT}\n{PETER_SIG[2:]}",  # no em dash
            f"{TEXT}\n— PeterNeumann\n",  # no signature
            f"{TEXT}\n— PeterNeumann !!!!\n",  # not base64
            f"{TEXT}\n— PeterNeumann AAAA\n",  # too short for a key hash and a signature
            f"{TEXT}\x07\n{PETER_SIG}",  # a control character
            f"{TEXT}\n" + PETER_SIG * 101,  # too many signatures
        ]:
            with self.assertRaises(NoteError, msg=note):
                open_note(note, [peter])

    def test_it_signs_only_text_ending_in_a_newline(self):
        with self.assertRaises(NoteError):
            sign_note("no newline", Signer.parse(PETER_SKEY))

    def test_it_refuses_names_with_spaces_or_plus(self):
        for name in ["", "a b", "a+b", "a\tb"]:
            with self.assertRaises(NoteError, msg=name):
                Signer.generate(name)


class CheckpointTests(SimpleTestCase):
    root = bytes(range(32))

    def test_it_writes_the_c2sp_checkpoint_body(self):
        checkpoint = Checkpoint(origin="support.example.com/log", size=70000, root_hash=self.root)
        b64 = base64.b64encode(self.root).decode()
        self.assertEqual(checkpoint.text(), f"support.example.com/log\n70000\n{b64}\n")
        self.assertEqual(Checkpoint.parse(checkpoint.text()), checkpoint)

    def test_it_keeps_extension_lines(self):
        checkpoint = Checkpoint(origin="o", size=0, root_hash=self.root, extensions=("x y", "z"))
        self.assertTrue(checkpoint.text().endswith("\nx y\nz\n"))
        self.assertEqual(Checkpoint.parse(checkpoint.text()), checkpoint)

    def test_a_signed_checkpoint_opens_and_parses(self):
        signer = Signer.generate("support.example.com/log")
        checkpoint = Checkpoint(origin=signer.name, size=8, root_hash=self.root)
        text, _ = open_note(sign_note(checkpoint.text(), signer), [signer.verifier])
        self.assertEqual(Checkpoint.parse(text), checkpoint)

    def test_it_refuses_malformed_checkpoints(self):
        b64 = base64.b64encode(self.root).decode()
        for text in [
            f"o\n8\n{b64}",  # no final newline
            "o\n8\n",
            f"\n8\n{b64}\n",
            f"o\n08\n{b64}\n",
            f"o\n-8\n{b64}\n",
            f"o\n8.0\n{b64}\n",
            f"o\n٨\n{b64}\n",
            f"o\n8\n{base64.b64encode(self.root[:31]).decode()}\n",
            "o\n8\nnot base64\n",
            f"o\n8\n{b64}\n\nextension\n",
        ]:
            with self.assertRaises(NoteError, msg=text):
                Checkpoint.parse(text)

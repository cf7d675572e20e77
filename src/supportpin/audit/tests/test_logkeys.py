"""The log's keys: genlogkey, the development key, and refusing to start without a key."""

import os
import subprocess
import sys
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.test import SimpleTestCase, override_settings

from supportpin.audit.logkeys import log_signer, log_verifiers
from supportpin.audit.note import Checkpoint, Signer, Verifier, open_note, sign_note

SIGNING_KEY = str(Signer.generate("support.example.com/log"))
OLD_VKEY = str(Signer.generate("support.example.com/log").verifier)
OTHER_VKEY = str(Signer.generate("witness.example.org").verifier)


def genlogkey(origin: str) -> list[str]:
    out = StringIO()
    call_command("genlogkey", origin, stdout=out)
    return out.getvalue().splitlines()


def start_up_errors() -> str:
    """Return what `supportpin check` says when it refuses to start, or '' when it starts."""
    try:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as error:
        return str(error)
    return ""


class GenLogKeyTests(SimpleTestCase):
    def test_it_prints_a_working_key_pair_each_line_named(self):
        lines = genlogkey("support.example.com/log")

        self.assertEqual(len(lines), 4)
        self.assertIn("Signer key (secret", lines[0])
        self.assertIn("SUPPORTPIN_LOG_SIGNING_KEY", lines[0])
        self.assertIn("Verifier key (public", lines[2])
        signer, verifier = Signer.parse(lines[1]), Verifier.parse(lines[3])
        self.assertEqual(signer.name, "support.example.com/log")
        self.assertEqual(signer.verifier, verifier)
        checkpoint = Checkpoint(origin=signer.name, size=1, root_hash=bytes(32)).text()
        self.assertEqual(open_note(sign_note(checkpoint, signer), [verifier])[0], checkpoint)

    def test_it_prints_a_new_key_each_time(self):
        self.assertNotEqual(genlogkey("a.example/log")[1], genlogkey("a.example/log")[1])

    def test_it_refuses_an_origin_a_key_cannot_be_named(self):
        for origin in ["support example", "support+log"]:
            with self.assertRaisesMessage(CommandError, "no spaces and no +"):
                genlogkey(origin)

    @override_settings(DEBUG=False, SUPPORTPIN_LOG_SIGNING_KEY="")
    def test_it_runs_where_the_service_would_refuse_to_start(self):
        self.assertEqual(len(genlogkey("support.example.com/log")), 4)


class LogKeySettingsTests(SimpleTestCase):
    @override_settings(SUPPORTPIN_LOG_SIGNING_KEY=SIGNING_KEY, SUPPORTPIN_LOG_PUBLIC_KEYS=[])
    def test_it_signs_with_the_configured_key_named_as_the_origin(self):
        self.assertEqual(str(log_signer()), SIGNING_KEY)
        self.assertEqual(log_signer().name, "support.example.com/log")
        self.assertEqual(log_verifiers(), [Signer.parse(SIGNING_KEY).verifier])
        self.assertEqual(start_up_errors(), "")

    @override_settings(
        SUPPORTPIN_LOG_SIGNING_KEY=SIGNING_KEY, SUPPORTPIN_LOG_PUBLIC_KEYS=[OLD_VKEY, OTHER_VKEY]
    )
    def test_it_keeps_verifying_with_the_keys_of_earlier_rotations(self):
        old_note = sign_note("old checkpoint\n", Signer.parse(SIGNING_KEY))
        self.assertEqual(
            [str(v) for v in log_verifiers()],
            [str(Signer.parse(SIGNING_KEY).verifier), OLD_VKEY, OTHER_VKEY],
        )
        self.assertEqual(open_note(old_note, log_verifiers())[0], "old checkpoint\n")

    @override_settings(DEBUG=True, SUPPORTPIN_LOG_SIGNING_KEY="", SECRET_KEY="dev-secret-one")
    def test_with_debug_and_no_key_it_derives_a_development_key_from_secret_key(self):
        signer = log_signer()
        self.assertTrue(signer.name.endswith("/supportpin-dev"))
        self.assertEqual(log_signer(), signer)
        self.assertEqual(start_up_errors(), "")
        with override_settings(SECRET_KEY="dev-secret-two"):
            self.assertNotEqual(log_signer().seed, signer.seed)

    @override_settings(DEBUG=False, SUPPORTPIN_LOG_SIGNING_KEY="")
    def test_without_debug_and_without_a_key_it_refuses_to_start_and_says_why(self):
        errors = start_up_errors()
        self.assertIn("audit.E001", errors)
        self.assertIn("SUPPORTPIN_LOG_SIGNING_KEY is not set", errors)
        self.assertIn("supportpin genlogkey", errors)

    def test_a_malformed_key_stops_the_start_and_is_not_echoed(self):
        mangled = SIGNING_KEY[:-3] + "AAA"
        for key in [mangled, "PRIVATE+KEY+log", SIGNING_KEY.removeprefix("PRIVATE+KEY+")]:
            with override_settings(DEBUG=True, SUPPORTPIN_LOG_SIGNING_KEY=key):
                errors = start_up_errors()
            self.assertIn("audit.E001", errors, key)
            self.assertIn("SUPPORTPIN_LOG_SIGNING_KEY:", errors, key)
            # The seed is secret even when it is broken.
            self.assertNotIn(key[-20:], errors)

    @override_settings(SUPPORTPIN_LOG_SIGNING_KEY=SIGNING_KEY)
    def test_a_malformed_public_key_stops_the_start(self):
        with override_settings(SUPPORTPIN_LOG_PUBLIC_KEYS=[OLD_VKEY, OLD_VKEY[:-2]]):
            errors = start_up_errors()
        self.assertIn("SUPPORTPIN_LOG_PUBLIC_KEYS", errors)
        self.assertIn(OLD_VKEY[:-2], errors)


class StartUpTests(SimpleTestCase):
    """The real start-up: settings read from the environment, checked by `supportpin check`."""

    def supportpin_check(self, **environ: str) -> subprocess.CompletedProcess:
        env = os.environ | {"SECRET_KEY": "x", "DEBUG": "0"} | environ
        return subprocess.run(
            [sys.executable, "-m", "supportpin", "check"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_it_refuses_to_start_without_a_key(self):
        result = self.supportpin_check(SUPPORTPIN_LOG_SIGNING_KEY="")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SUPPORTPIN_LOG_SIGNING_KEY is not set", result.stderr)

    def test_it_reads_public_keys_separated_by_commas_or_spaces(self):
        result = self.supportpin_check(
            SUPPORTPIN_LOG_SIGNING_KEY=SIGNING_KEY,
            SUPPORTPIN_LOG_PUBLIC_KEYS=f"{OLD_VKEY}, {OTHER_VKEY}\n",
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.supportpin_check(
            SUPPORTPIN_LOG_SIGNING_KEY=SIGNING_KEY,
            SUPPORTPIN_LOG_PUBLIC_KEYS=f"{OLD_VKEY},{OTHER_VKEY} broken+key",
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("'broken+key'", result.stderr)

import os
import subprocess
import sys
from datetime import timedelta

from django.test import SimpleTestCase

from supportpin.lib.rates import parse_rate


class RateTests(SimpleTestCase):
    def test_it_reads_a_count_and_its_window(self):
        self.assertEqual(parse_rate("10/5m"), (10, timedelta(minutes=5)))
        self.assertEqual(parse_rate("3/h"), (3, timedelta(hours=1)))
        self.assertEqual(parse_rate("100/2d"), (100, timedelta(days=2)))

    def test_it_refuses_what_is_no_rate(self):
        for text in ("", "10", "10/5", "ten/5m", "10/5w", "10 / 5m"):
            with self.assertRaises(ValueError, msg=text):
                parse_rate(text)

    def test_it_stops_the_service_at_start_up_on_a_wrong_sign_in_rate(self):
        env = os.environ | {"SUPPORTPIN_SIGN_IN_RATE": "10 per minute", "SECRET_KEY": "x"}
        result = subprocess.run(
            [sys.executable, "-m", "supportpin", "check"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SUPPORTPIN_SIGN_IN_RATE", result.stderr)

"""Rates written as "<count>/<period>", such as "10/5m": ten within five minutes."""

import re
from datetime import timedelta

_RATE = re.compile(r"(\d+)/(\d*)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> tuple[int, timedelta]:
    """Return the count and the window of a rate such as "10/5m"; ValueError for anything else."""
    match = _RATE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is no rate: write it as 10/5m (s, m, h or d)")
    limit, count, unit = match.groups()
    return int(limit), timedelta(seconds=int(count or 1) * _UNIT_SECONDS[unit])

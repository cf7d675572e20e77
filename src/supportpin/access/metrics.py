"""What happens to PINs and access decisions, counted for /metrics (bounded labels only)."""

from prometheus_client import Counter

REDEMPTIONS = Counter(
    "supportpin_pin_redemptions", "PINs redeemed: a supporter's new PIN grant opened."
)
WRONG_PINS = Counter(
    "supportpin_wrong_pins", "Redemptions counted as a wrong guess against the supporter."
)
BLOCKED_SUPPORTERS = Counter(
    "supportpin_supporters_blocked", "Supporters blocked after too many wrong PINs."
)
DECISIONS = Counter(
    "supportpin_decisions",
    "Access decisions (product reads and actions, decision checks, forward auth).",
    ["basis", "outcome"],
)

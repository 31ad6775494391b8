"""Generation profiles of the report records: sessions, tokens, requests and model tiers per product."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------------
# Generation parameters

SESSION_RATE = {
    "chat": 1.0,
    "claude_code": 0.8,
    "cowork": 0.6,
    "office_agent": 0.5,
    "claude_in_chrome": 0.4,
    "claude_design": 0.4,
}
#: Median tokens of one session: uncached input, 5m cache write, 1h cache write, cache read, output.
TOKENS = {
    "chat": (6_000, 3_000, 300, 20_000, 1_200),
    "claude_code": (30_000, 120_000, 50_000, 1_500_000, 22_000),
    "cowork": (15_000, 50_000, 8_000, 300_000, 7_000),
    "office_agent": (10_000, 12_000, 0, 60_000, 3_500),
    "claude_in_chrome": (14_000, 18_000, 0, 100_000, 2_000),
    "claude_design": (9_000, 20_000, 2_000, 120_000, 14_000),
}
REQUESTS = {
    "chat": 4,
    "claude_code": 45,
    "cowork": 18,
    "office_agent": 6,
    "claude_in_chrome": 9,
    "claude_design": 7,
}
SEARCHES = {
    "chat": 0.5,
    "claude_code": 0.1,
    "cowork": 0.9,
    "office_agent": 0.2,
    "claude_in_chrome": 0.7,
    "claude_design": 0.1,
}
TIERS = {
    "chat": {"opus": 0.25, "sonnet": 0.6, "haiku": 0.15},
    "claude_code": {"opus": 0.55, "sonnet": 0.4, "haiku": 0.05},
    "cowork": {"opus": 0.4, "sonnet": 0.5, "haiku": 0.1},
    "office_agent": {"opus": 0.1, "sonnet": 0.6, "haiku": 0.3},
    "claude_in_chrome": {"opus": 0.1, "sonnet": 0.5, "haiku": 0.4},
    "claude_design": {"opus": 0.6, "sonnet": 0.4, "haiku": 0.0},
}
LONG_CONTEXT = {"claude_code": 0.07, "cowork": 0.04}
FAST = {"claude_code": 0.08}
#: Relative activity per UTC hour (a global company: Europe and the Americas overlap mid-day UTC).
DIURNAL = np.array(
    [
        1.0,
        0.7,
        0.5,
        0.4,
        0.4,
        0.5,
        0.8,
        1.2,
        2.0,
        3.0,
        3.5,
        3.8,
        4.0,
        4.3,
        4.5,
        4.6,
        4.4,
        4.0,
        3.4,
        2.8,
        2.3,
        1.9,
        1.5,
        1.2,
    ]
)
DIURNAL = DIURNAL / DIURNAL.sum()
LATE_SHARE = 0.08  # records that arrive days late (revisions)
MAX_LATE_DAYS = 29
TOKEN_CAP = 2_000_000_000


def model_tier(model_id: str) -> str:
    for t in ("opus", "sonnet", "haiku"):
        if t in model_id:
            return t
    return "sonnet"

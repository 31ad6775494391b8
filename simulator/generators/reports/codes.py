"""The report records: their columns (DayRecords), the codes of their dimensions (-1 is null everywhere) and money helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from simulator.catalog import MODELS, TOKEN_TYPES
from simulator.clock import day_start

# ---------------------------------------------------------------------------------------------
# Codes of the record dimensions (-1 is null everywhere)

#: ``product`` codes, legacy-report spelling (Claude Tag is ``claude-tag`` as in SDK 2.12).
PRODUCTS = (
    "chat",
    "claude_code",
    "cowork",
    "office_agent",
    "claude_in_chrome",
    "claude_design",
    "claude-tag",
    "other",
)
#: Same codes, spelled as the beta ``/analytics/usage`` and ``/analytics/cost`` endpoints spell them.
PRODUCTS_V2 = tuple("claude_tag" if p == "claude-tag" else p for p in PRODUCTS)
P_TAG = PRODUCTS.index("claude-tag")
P_OTHER = PRODUCTS.index("other")
P_CODE = PRODUCTS.index("claude_code")
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
GEOS = ("global", "us")
SPEEDS = ("standard", "fast")
TAG_CATEGORIES = ("dm", "engaged", "monitoring", "proactive", "scheduled")
#: The service tier of every Enterprise record: seat usage is served (and priced) on the standard tier,
#: and the beta reports' ``service_tier`` carries it for Enterprise organizations too (reference B13).
SERVICE_TIER = "standard"
#: Money components, in the column order of ``DayRecords.lst`` (token types as in catalog.TOKEN_TYPES).
COMPONENTS = (*TOKEN_TYPES, "web_search", "code_execution")
C_WEB, C_EXEC = 5, 6
MODEL_IDS = tuple(m.id for m in MODELS)

# token columns (catalog.TOKEN_TYPES order)
T_UNCACHED, T_5M, T_1H, T_READ, T_OUT = range(5)


def epoch(d: date) -> int:
    return int(day_start(d).timestamp())


def usd(microcents: int) -> str:
    """Integer micro-cents as an exact USD decimal string (8 decimals)."""
    return f"{Decimal(int(microcents)).scaleb(-8):.8f}"


@dataclass(frozen=True)
class DayRecords:
    """Fine records of one organization-day (arrays of equal length)."""

    day: date
    ts: np.ndarray  # int32 seconds since the day's midnight UTC
    arrival: np.ndarray  # int32 seconds since midnight when the record reaches the export
    user: np.ndarray  # int32 index into org.users, -1 = no seat user
    product: np.ndarray  # int8 into PRODUCTS, -1 = null (code execution)
    model: np.ndarray  # int8 into catalog.MODELS, -1 = null
    cw: np.ndarray  # int8 into CONTEXT_WINDOWS, -1 = null
    geo: np.ndarray  # int8 into GEOS, -1 = null (region not set)
    speed: np.ndarray  # int8 into SPEEDS, -1 = null
    channel: np.ndarray  # int16 into ReportData.channels, -1 = null
    tag_cat: np.ndarray  # int8 into TAG_CATEGORIES, -1 = null
    tag_user: np.ndarray  # int32 into ReportData.slack_users, -1 = null
    tokens: np.ndarray  # int64 [n, 5] (catalog.TOKEN_TYPES order)
    requests: np.ndarray  # int64 (execution spans on code-execution records)
    searches: np.ndarray  # int64 web search requests
    lst: np.ndarray  # int64 [n, 7] list price in micro-cents per COMPONENTS
    amt: np.ndarray  # int64 [n, 7] discounted amount in micro-cents per COMPONENTS

    @property
    def n(self) -> int:
        return len(self.ts)

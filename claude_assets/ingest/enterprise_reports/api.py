"""What the API reference documents about the Enterprise usage and cost reports: paths, limits, floors."""

from datetime import date, timedelta

BASE = "/v1/organizations/analytics"
BETA_HEADERS = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
DATA_FLOOR = date(2026, 1, 1)  # the API holds nothing before it
LOOKBACK_DAYS = 365
CLOCK_MARGIN = timedelta(hours=1)  # our clock may run behind the API's
MAX_WINDOW_DAYS = 31  # every report: starting_at .. ending_at spans at most 31 days
TOP_GROUPS = 100  # bucketed reports: at most the top 100 groups per bucket, no remainder row
BUCKET_LIMIT = {"1d": 31, "1h": 168}  # the largest page (in buckets) per bucket width
#: inference_geos[] values, a partition of every row (not_available matches an unset region)
GEO_SLICES = ("global", "us", "not_available")
ROW_LIMIT = 1000  # per-user and beta reports: rows per page


def instant(d: date) -> str:
    """Midnight UTC of ``d`` as the reports' RFC 3339 ``starting_at`` / ``ending_at``."""
    return f"{d.isoformat()}T00:00:00Z"


def day_of(stamp: str) -> date:
    """The UTC day of an RFC 3339 bucket or row start."""
    return date.fromisoformat(str(stamp)[:10])

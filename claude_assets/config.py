"""Which organizations to read, and how: environment variables or one YAML file.

Simple case: ``ANTHROPIC_ADMIN_API_KEY`` gives a Console organization ``console`` and
``ANTHROPIC_ANALYTICS_API_KEY`` an Enterprise organization ``enterprise``; with neither set, both
organizations are declared and a run fails naming the variable to set. Several organizations:
``CLAUDE_ASSETS_CONFIG=path.yaml``::

    organizations:
      - slug: acme-console
        kind: console                 # console | enterprise
        key_env: ACME_ADMIN_API_KEY   # the variable that holds the key (never the key itself)
        base_url: https://api.anthropic.com   # optional (default: $ANTHROPIC_BASE_URL or the real API)
        rate_limit_per_minute: 60     # optional
        history_start: 2026-01-01     # optional: first day of the partitions
        analytics_api: true           # optional: read the Usage and Cost Analytics API (/analytics/usage and
                                      #   /cost) too; false where it is unavailable (e.g. Claude Platform on AWS)
        cost_record: legacy           # optional: the record of billed cost in facts.cost: legacy (the
                                      #   usage_report/cost_report family) or analytics (/analytics/cost)
        api_organization_id: 3f1c2b7a-1111-4e2b-9c3d-0a1b2c3d4e5f   # optional: the API's id of it (UUID or org_…)
        pseudonymize: true            # optional: this organization's own switch (default: privacy.pseudonymize)
    price_book_file: prices.csv       # optional: price book rows that add to or override the list prices
                                      # (relative to this file; columns as claude_assets/facts/price_book.csv)
    budgets_file: budgets.yaml        # optional: the budgets (relative to this file; format in
                                      # claude_assets/insights/budgets/file.py)
    metric_revisions_file: revisions.yaml   # optional: metrics a source revised from a given day, added to the
                                      # ones the project ships (format in claude_assets/ingest/revisions.py)
    reconciliation_tolerance_usd: 0.01   # optional: the most a day's unexplained cost difference may be (USD)
    day_complete_after:               # optional: how long after a UTC day ends each source holds all of it
      console_usage: PT5M             #   (ISO 8601 durations; the defaults are the documented delays, see
      console_cost: PT5M              #   DayCompleteAfter); until then a pulled day is provisional
      claude_code: PT1H
      enterprise_reports: PT24H       # the legacy Enterprise reports and the beta analytics usage/cost
      enterprise_refresh_interval: PT4H
    source_timing:                    # optional: when a source is late or stalled (defaults in SourceTimings)
      console_cost: {expected_delay: PT25H, stall_after: PT48H}
      enterprise_reports: {expected_delay: PT24H, stall_after: PT24H, revision_cadence: PT24H}
    day_published_after:              # optional: how long after a UTC day ends each source first answers for it
      enterprise_engagement: PT10H    #   (defaults: DayPublishedAfter): its assets' partitions end on the newest
      enterprise_reports: PT0S        #   day published, in whole days (PT10H: a day is selectable from the end
      console: PT0S                   #   of the next day, never before the API has it)
    day_revisable_for:                # optional: how long after a UTC day ends a complete day may still be
      enterprise_reports: P30D        #   revised at its source (then it is settled); defaults: DayRevisableFor
      enterprise_engagement: P3D
      console: PT0S
    alerts:                           # optional: where new anomalies and budget crossings are posted (once)
      webhooks:                       #   Slack-compatible incoming webhooks; none: nothing is posted
        - name: ops-slack             #   names the destination in insights.alert_log (renamed = a new one)
          url_env: OPS_SLACK_WEBHOOK_URL   # the variable holding the URL (its path is a secret), or url:
      ui_base_url: http://127.0.0.1:3000   # the Dagster UI the alerts link to
      timeout_seconds: 10             # per request
      max_attempts: 4                 # requests per alert and destination in one materialization
      backoff_seconds: 1              # the wait before the second request, doubled for each next one
      backoff_max_seconds: 30         # the longest wait (also caps a receiver's Retry-After)
    anomalies:                        # optional: when insights.cost_anomalies flags a day (defaults: AnomalySettings)
      baseline_weeks: 6               #   the trailing weeks of the same weekday the baseline is the median of
      min_usd: 50                     #   flag only when the day is at least this many USD above expected...
      min_tokens: 100000000           #   ...(token rows: this many tokens)...
      min_pct: 50                     #   ...AND at least this many percent above it
      min_total_pct: 10               #   ...AND at least this percent of the organization's expected total
      min_expected_pct_of_floor: 20   #   a slice expected under 20 % of the floor is judged through its parents
    owners:                           # optional: who owns each asset group in the Dagster UI (OwnersConfig)
      default: [team:data-platform]   #   every group not named below (the default)
      groups:                         #   a group named here takes exactly these owners; facts, insights and
        facts: [team:finops, ana@example.com]   # exports default to team:finops
    privacy:                          # optional: personal data (docs/privacy.md; defaults: off, keep forever)
      pseudonymize: false             #   below raw, emails and names become u_<HMAC-SHA256>, keyed with the
                                      #   secret in $CLAUDE_ASSETS_PSEUDONYM_KEY (never in this file)
      raw_emails: keep                #   keep | pseudonymize: raw and inventory store the pseudonym too
      retention_months:               #   rows older than this many months are deleted by retention_job,
        raw: 25                       #   per table family (schema); absent: kept forever
        facts: 25

A key is never read from the file; invalid files fail at load with the file, line and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from resources.urls import check_base_url, is_loopback

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_HISTORY_START = date(2026, 1, 1)
DEFAULT_RECONCILIATION_TOLERANCE_USD = Decimal("0.01")
DEFAULT_RATE_LIMITS = {"console": 60, "enterprise": 60}
ENV_MODE = {
    "console": ("console", "ANTHROPIC_ADMIN_API_KEY"),
    "enterprise": ("enterprise", "ANTHROPIC_ANALYTICS_API_KEY"),
}
#: an Anthropic key anywhere in the file (real keys are ~100 characters; a short ``sk-ant-…`` in prose is not one)
_KEY_IN_TEXT = re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}")
KEY_IN_FILE = (
    "looks like an API key. A key is never written to the configuration file: put it in an environment "
    "variable and give that variable's name in key_env"
)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file, line and field."""


def looks_like_key(value: str) -> bool:
    """A key (or a random token) where an environment variable's name was expected."""
    v = value.strip()
    if v.lower().startswith("sk-") or "sk-ant-" in v:
        return True
    # variable names have underscores or one case; tokens are long mixes of cases and digits
    return (
        len(v) >= 32
        and "_" not in v
        and any(c.islower() for c in v)
        and any(c.isupper() for c in v)
        and any(c.isdigit() for c in v)
    )


class OrgConfig(BaseModel):
    # inputs are never echoed in validation errors: a misplaced key must not reach a log
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    slug: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="stable name of the organization: the org_id column and the partition key",
    )
    kind: Literal["console", "enterprise"] = Field(
        description="console: an Admin API key (usage, cost, Claude Code, inventory); enterprise: an Enterprise "
        "Analytics API key (engagement, usage and cost reports)"
    )
    key_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable holding the key"
    )
    base_url: str | None = Field(
        default=None,
        description="the API's base URL; none: $ANTHROPIC_BASE_URL, else https://api.anthropic.com (http:// "
        "only for this machine)",
    )
    rate_limit_per_minute: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="requests per minute the client allows itself for this organization; none: 60 (the "
        "documented limit of either API)",
    )
    history_start: date = Field(
        default=DEFAULT_HISTORY_START,
        description="the first UTC day of the organization's partitions (YYYY-MM-DD)",
    )
    analytics_api: bool = Field(
        default=True,
        description="read the Usage and Cost Analytics API (GET /v1/organizations/analytics/usage and /cost, "
        "beta) beside the legacy reports; false for an organization where it is unavailable (Claude "
        "Platform on AWS). An organization the API refuses (HIPAA readiness) is skipped with the API's reason",
    )
    cost_record: Literal["legacy", "analytics"] = Field(
        default="legacy",
        description="the record of billed cost that facts.cost reads: legacy (cost_report, or the Enterprise "
        "cost_report) or analytics (/analytics/cost, on the days it was read; the legacy lines elsewhere)",
    )
    pseudonymize: bool | None = Field(
        default=None,
        description="this organization's pseudonymization switch; none: the project's (privacy.pseudonymize)",
    )
    api_organization_id: str | None = Field(
        default=None,
        pattern=r"^(org_[A-Za-z0-9]{4,64}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        description="optional: the API's own id of the organization (the UUID of GET /v1/organizations/me, "
        "or the org_… id of the analytics reports); every answer must then come from it",
    )

    @model_validator(mode="before")
    @classmethod
    def _analytics_beta(cls, data: object) -> object:
        """``analytics_beta`` (the former opt-in, Enterprise only) still reads as ``analytics_api``."""
        if isinstance(data, dict) and "analytics_beta" in data:
            data = dict(data)
            beta = data.pop("analytics_beta")
            data.setdefault("analytics_api", beta)
        return data

    @model_validator(mode="after")
    def _record_is_read(self) -> OrgConfig:
        if self.cost_record == "analytics" and not self.analytics_api:
            raise ValueError("cost_record: analytics needs analytics_api: true (the record must be read)")
        return self

    @property
    def reads_analytics_api(self) -> bool:
        """Whether raw.analytics_usage / raw.analytics_cost are read for this organization (Console or
        Enterprise): the one predicate every layer asks (the raw/analytics_* assets, their partitions, source,
        sensor and the reconciliation follow it)."""
        return self.analytics_api

    @field_validator("key_env", mode="before")
    @classmethod
    def _not_a_key(cls, v: object) -> object:
        if isinstance(v, str) and looks_like_key(v):
            raise ValueError(
                "must name the environment variable that holds the key (e.g. ACME_ADMIN_API_KEY), "
                "never the key itself"
            )
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_base_url(v)

    @property
    def rate_limit(self) -> int:
        return self.rate_limit_per_minute or DEFAULT_RATE_LIMITS[self.kind]

    def resolved_base_url(self) -> str:
        return (self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


class DayCompleteAfter(BaseModel):
    """How long after a UTC day ends each source holds all of it (the defaults are the documented delays).

    A day pulled earlier (by the API's clock) is logged provisional and pulled again once this has passed;
    for the Enterprise reports the export watermark ``data_refreshed_at`` must also have reached it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    console_usage: timedelta = Field(
        default=timedelta(minutes=5),
        ge=timedelta(0),
        description="usage_report/messages: data 'typically appears within 5 minutes' (reference A1)",
    )
    console_cost: timedelta = Field(
        default=timedelta(minutes=5),
        ge=timedelta(0),
        description="cost_report: serves completed UTC days only; no delay is documented, so that of the "
        "usage it bills (reference A1, A2)",
    )
    claude_code: timedelta = Field(
        default=timedelta(hours=1),
        ge=timedelta(0),
        description="usage_report/claude_code: 'only data older than 1 hour is included' (reference A3)",
    )
    enterprise_reports: timedelta = Field(
        default=timedelta(hours=24),
        ge=timedelta(0),
        description="Enterprise usage/cost reports (legacy and beta): 'usually within 4 h, up to 24 h'; "
        "data_refreshed_at must reach the day's end plus this (reference B0, B8-B12)",
    )
    enterprise_refresh_interval: timedelta = Field(
        default=timedelta(hours=4),
        gt=timedelta(0),
        description="Enterprise usage/cost reports: data 'typically refreshed every 4 hours' (reference B0): "
        "the next export expected after a stale data_refreshed_at",
    )


class SourceTiming(BaseModel):
    """When one source is late or stalled, and how its recent days are pulled again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expected_delay: timedelta = Field(
        gt=timedelta(0),
        description="how far the source's watermark (the end of its newest day, its newest usage bucket, or "
        "the reports' data_refreshed_at) may trail the API's clock; beyond it the source is late",
    )
    stall_after: timedelta = Field(
        gt=timedelta(0), description="the watermark unchanged for longer than this: the source has stalled"
    )
    revision_cadence: timedelta = Field(
        default=timedelta(hours=24),
        ge=timedelta(0),
        description="a day inside its source's revision window (day_revisable_for) is pulled again once its last pull is this old (and, "
        "for the Enterprise reports, the source has exported since)",
    )


class SourceTimings(BaseModel):
    """Per source: when it is late or stalled, and how often a revisable day is pulled again (readiness
    sensors, source_on_time); how long a day stays revisable is ``day_revisable_for``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    console_usage: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=2), stall_after=timedelta(hours=6)),
        description="Console usage report (usage_report/messages)",
    )
    console_cost: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=25), stall_after=timedelta(hours=48)),
        description="Console cost report",
    )
    #: its watermark is the newest day with rows, and an organization may have no Claude Code activity over
    #: a weekend: Friday's data (watermark Saturday 00:00) stands until Monday's arrives on Tuesday at 01:00
    claude_code: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=74), stall_after=timedelta(hours=96)),
        description="Claude Code usage report (its watermark is the newest day with rows)",
    )
    engagement: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=36), stall_after=timedelta(hours=48)),
        description="Enterprise engagement endpoints (summaries, users, projects, skills, connectors, plugins, artifacts)",
    )
    enterprise_reports: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=24), stall_after=timedelta(hours=24)),
        description="legacy Enterprise usage and cost reports (their data_refreshed_at)",
    )
    analytics_beta: SourceTiming = Field(
        default=SourceTiming(expected_delay=timedelta(hours=24), stall_after=timedelta(hours=24)),
        description="beta Usage and Cost Analytics endpoints (their data_refreshed_at)",
    )
    catch_up_days: int = Field(
        default=7,
        ge=1,
        le=366,
        description="the readiness sensors request days missing from the warehouse this far back from the "
        "newest ready day",
    )


class DayPublishedAfter(BaseModel):
    """How long after a UTC day ends each source first answers for it (the defaults are what the reference
    documents). The newest partition of a source's assets is the newest day it has published, rounded down to
    whole days: a day is never selectable before its source can answer for it (it may be up to a day later).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enterprise_engagement: timedelta = Field(
        default=timedelta(hours=10),
        ge=timedelta(0),
        description="Enterprise engagement endpoints (summaries, users, projects, skills, connectors, artifacts, "
        "plugins): a day is 'aggregated at 10:00 UTC next day', and asking for a later day is a 400 (reference B0)",
    )
    enterprise_reports: timedelta = Field(
        default=timedelta(0),
        ge=timedelta(0),
        description="Enterprise usage and cost reports (legacy and beta): a day is served, provisional, as soon as "
        "it has ended; data_refreshed_at says how complete (reference B0, B8-B12)",
    )
    console: timedelta = Field(
        default=timedelta(0),
        ge=timedelta(0),
        description="Console usage, cost and Claude Code reports: a day is served once it has ended (the cost "
        "report serves completed UTC days only; reference A1-A3)",
    )


class DayRevisableFor(BaseModel):
    """How long after a UTC day ends its source may still revise it, once complete (the defaults are what
    the reference documents). A day pulled inside this window is logged ``revisable``, after it (by the
    API's clock, and for the Enterprise reports by their ``data_refreshed_at``) ``settled``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enterprise_reports: timedelta = Field(
        default=timedelta(days=30),
        ge=timedelta(0),
        description="Enterprise usage/cost reports (legacy and beta): 'values revised up to 30 days' (reference B0)",
    )
    enterprise_engagement: timedelta = Field(
        default=timedelta(days=3),
        ge=timedelta(0),
        description="Enterprise engagement endpoints: values 'may be revised by a few percent' with no window "
        "given (reference B0); the earlier docs said 'data is finalized with a 3-day lag', so 3 days",
    )
    console: timedelta = Field(
        default=timedelta(0),
        ge=timedelta(0),
        description="Console usage, cost and Claude Code reports: the reference documents no revision of a "
        "complete day (A1-A3), so a complete day is settled at once",
    )


def check_webhook_url(value: str) -> str:
    """``value`` if it can be a webhook URL, else ValueError saying why (never showing its path, which is
    often the secret): http(s) with a host, https unless the host is this machine."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, e.g. https://hooks.slack.com/services/...")
    if parts.username or parts.password:
        raise ValueError("must not hold credentials before the host")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"http:// is refused for {parts.hostname}: the webhook's token would travel unencrypted. Use "
            "https://, or http:// only for this machine (localhost, 127.0.0.1, ::1)"
        )
    return value.strip()


class Webhook(BaseModel):
    """One destination of the alerts: a Slack-compatible incoming webhook, its URL given in the file
    (``url``) or, better, in an environment variable (``url_env``): the URL's path is its secret."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="names the destination in insights.alert_log and the UI; an alert is posted once per "
        "name (a renamed webhook is a new destination)",
    )
    url: str | None = Field(
        default=None, repr=False, description="the webhook URL (prefer url_env: it is a secret)"
    )
    url_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the environment variable holding the webhook URL",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_webhook_url(v)

    @model_validator(mode="after")
    def _one_source(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env (the variable holding the URL)")
        return self

    def resolved_url(self, environ: dict[str, str] | None = None) -> str:
        """The URL to post to; ConfigError naming the webhook and variable when it is unset or not a URL."""
        if self.url is not None:
            return self.url
        env = os.environ if environ is None else environ
        value = env.get(self.url_env or "", "").strip()
        where = f"alerts.webhooks[{self.name}].url_env: environment variable {self.url_env}"
        if not value:
            raise ConfigError(f"{where} is not set: set it to the webhook's URL, or remove the webhook")
        try:
            return check_webhook_url(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None


class AlertsConfig(BaseModel):
    """Where and how new anomalies and budget threshold crossings are posted (``insights.alert_deliveries``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhooks: tuple[Webhook, ...] = Field(
        default=(), description="the destinations; with none, alerts are counted but not posted"
    )
    ui_base_url: str = Field(
        default="http://127.0.0.1:3000", description="the Dagster UI the alerts link to (asset and partition)"
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="the most one request may take")
    max_attempts: int = Field(
        default=4,
        ge=1,
        le=20,
        description="requests per alert and destination in one materialization; still failing, the alert "
        "is recorded failed and tried again at the next materialization",
    )
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=300, description="the wait before the second request, doubled for each next one"
    )
    backoff_max_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="the longest wait between two requests (and the cap on Retry-After)",
    )

    @field_validator("ui_base_url")
    @classmethod
    def _ui(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:3000")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsConfig:
        names = [w.name for w in self.webhooks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"webhook name(s) {', '.join(twice)} appear twice; names must be unique")
        return self


#: the environment variable holding the pseudonymization secret (never the configuration file)
PSEUDONYM_KEY_ENV = "CLAUDE_ASSETS_PSEUDONYM_KEY"
#: the table families retention counts months for: the warehouse's schemas
RETENTION_FAMILIES = ("raw", "inventory", "facts", "insights", "exports")


class RetentionMonths(BaseModel):
    """How many months of rows each table family keeps (``retention_job``); a family left out keeps every row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw: int | None = Field(
        default=None, ge=1, le=1200, description="raw.* (and its ingest and restatement logs)"
    )
    inventory: int | None = Field(
        default=None,
        ge=1,
        le=1200,
        description="inventory.*: versions closed before the limit (current ones stay)",
    )
    facts: int | None = Field(default=None, ge=1, le=1200, description="facts.* (the price book stays)")
    insights: int | None = Field(default=None, ge=1, le=1200, description="insights.*")
    exports: int | None = Field(
        default=None, ge=1, le=1200, description="exports.* (the tables, not the files)"
    )

    def of(self, family: str) -> int | None:
        return getattr(self, family)

    @property
    def any(self) -> bool:
        return any(self.of(f) is not None for f in RETENTION_FAMILIES)


class PrivacySettings(BaseModel):
    """Personal data: pseudonymization below raw (off by default) and retention (off by default); docs/privacy.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pseudonymize: bool = Field(
        default=False,
        description="below raw (facts, insights, exports, alert payloads, UI metadata), emails and names become "
        f"a keyed hash u_<HMAC-SHA256 hex> with the secret in ${PSEUDONYM_KEY_ENV}; per organization: "
        "organizations[].pseudonymize",
    )
    raw_emails: Literal["keep", "pseudonymize"] = Field(
        default="keep",
        description="keep: raw and inventory hold what the API said; pseudonymize: they hold the same keyed hash "
        "instead of emails and names (for the organizations pseudonymized), so no email is stored at all",
    )
    retention_months: RetentionMonths = Field(
        default_factory=RetentionMonths, description="months of rows each table family keeps"
    )


class AnomalySettings(BaseModel):
    """When ``insights.cost_anomalies`` flags a day: one set of thresholds for every organization (nothing
    is tuned per customer). A day is compared with a weekly-seasonal baseline: the median of the same
    weekday over the trailing ``baseline_weeks`` (settled days only), times the level of the last
    ``level_days`` days against their own weekdays' medians; its usual range is ``interval_sigmas`` robust
    standard deviations (1.4826 x the median absolute deviation of every trailing day around its weekday's
    median) either side. A day is flagged only when it is above that range AND above expected by every
    floor: ``min_usd`` (cost rows; ``min_tokens`` for token rows), ``min_pct`` percent of the slice's
    expected value, and ``min_total_pct`` percent of the organization's expected total that day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_weeks: int = Field(
        default=6, ge=2, le=26, description="trailing weeks whose same weekday the baseline is the median of"
    )
    min_baseline_weeks: int = Field(
        default=3, ge=1, le=26, description="the fewest settled same-weekday days a day is judged against"
    )
    level_days: int = Field(
        default=7,
        ge=1,
        le=28,
        description="trailing days whose level (against their weekday) scales the baseline",
    )
    interval_sigmas: float = Field(
        default=6.0, gt=0, description="half-width of the usual range, in robust standard deviations"
    )
    min_relative_spread: float = Field(
        default=0.1,
        ge=0,
        description="the least relative standard deviation assumed (a series too steady to have one)",
    )
    min_usd: Decimal = Field(default=Decimal(50), ge=0, description="dollar floor: USD above expected")
    min_tokens: int = Field(default=100_000_000, ge=0, description="token floor: tokens above expected")
    min_pct: float = Field(default=50.0, ge=0, description="percent floor: percent above expected")
    min_expected_pct_of_floor: float = Field(
        default=20.0,
        ge=0,
        description="a slice is judged on its own only when its expected value is at least this percent of the "
        "absolute floor (a slice of cents a day shows through its parents, where it is a driver)",
    )
    min_total_pct: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="materiality floor: the rise is at least this percent of the organization's expected "
        "total that day (same measure), so a large organization's many slices do not each raise their noise",
    )
    medium_pct: float = Field(default=100.0, ge=0, description="severity medium from this percent above")
    high_pct: float = Field(default=300.0, ge=0, description="severity high from this percent above")
    driver_min_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="the top driver is the most specific slice (API key, user, workspace, product, model) "
        "explaining at least this share of the change",
    )
    max_drivers: int = Field(default=3, ge=1, le=20, description="drivers kept per kind of child slice")

    @model_validator(mode="after")
    def _ordered(self) -> AnomalySettings:
        if self.min_baseline_weeks > self.baseline_weeks:
            raise ValueError("min_baseline_weeks must not exceed baseline_weeks")
        if not self.min_pct <= self.medium_pct <= self.high_pct:
            raise ValueError("the percent thresholds must rise: min_pct <= medium_pct <= high_pct")
        return self


def check_owner(value: str) -> str:
    """``value`` if Dagster accepts it as an asset owner (an email address or ``team:<name>``), else
    ValueError saying what is accepted."""
    # Dagster's own rule (the one AssetSpec applies), so a configuration it would refuse fails at load
    from dagster._core.definitions.utils import is_valid_owner

    if not is_valid_owner(value):
        raise ValueError(
            f"owner {value!r} is neither an email address (e.g. ana@example.com) nor a team name "
            "prefixed with 'team:' (e.g. team:finops)"
        )
    return value


#: one owner as Dagster accepts it; a list of them, at least one
Owner = Annotated[str, AfterValidator(check_owner)]
Owners = Annotated[tuple[Owner, ...], Field(min_length=1)]
DEFAULT_OWNERS: tuple[str, ...] = ("team:data-platform",)
#: the groups whose figures are the FinOps team's to answer for: cost facts, insights and exports
DEFAULT_GROUP_OWNERS: dict[str, tuple[str, ...]] = {
    "facts": ("team:finops",),
    "insights": ("team:finops",),
    "exports": ("team:finops",),
}


class OwnersConfig(BaseModel):
    """Who owns each asset group (shown as the asset's owners in the Dagster UI): email addresses or team
    names prefixed with ``team:``. A group not listed in ``groups`` keeps its suggested owners (facts,
    insights and exports: ``team:finops``) or else takes ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Owners = Field(
        default=DEFAULT_OWNERS,
        description="the owners of every group not named in groups (the raw and inventory groups by default)",
    )
    groups: dict[str, Owners] = Field(
        default_factory=dict,
        description="owners per asset group (console, enterprise, inventory, facts, insights, exports, ...); "
        "a group named here takes exactly these owners",
    )

    def of_group(self, group: str | None) -> list[str]:
        """The owners of the assets of ``group``."""
        chosen = self.groups.get(group or "") or DEFAULT_GROUP_OWNERS.get(group or "") or self.default
        return list(chosen)


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    organizations: tuple[OrgConfig, ...] = Field(
        default=(),
        description="the organizations to read, one entry each (at least one in a file); without a file, "
        "one per key variable set (ANTHROPIC_ADMIN_API_KEY, ANTHROPIC_ANALYTICS_API_KEY)",
    )
    day_complete_after: DayCompleteAfter = Field(
        default_factory=DayCompleteAfter,
        description="how long after a day ends each source holds all of it (defaults: the documented delays)",
    )
    source_timing: SourceTimings = Field(
        default_factory=SourceTimings,
        description="when each source is late or stalled, and how often its revisable days are pulled again",
    )
    day_published_after: DayPublishedAfter = Field(
        default_factory=DayPublishedAfter,
        description="how long after a day ends each source first answers for it: where its partitions end",
    )
    day_revisable_for: DayRevisableFor = Field(
        default_factory=DayRevisableFor,
        description="how long after a day ends each source may still revise it (defaults: the documented windows)",
    )
    reconciliation_tolerance_usd: Decimal = Field(
        default=DEFAULT_RECONCILIATION_TOLERANCE_USD,
        ge=0,
        description="the most a day's unexplained cost difference (facts.cost_reconciliation) may be, in USD",
    )
    anomalies: AnomalySettings = Field(
        default_factory=AnomalySettings,
        description="when insights.cost_anomalies flags a day (thresholds for every organization)",
    )
    price_book_file: Path | None = Field(
        default=None,
        description="a CSV of price book rows that add to or override the project's list prices "
        "(a relative path is read from the configuration file's folder)",
    )
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig,
        description="where new anomalies and budget threshold crossings are posted, once each",
    )
    owners: OwnersConfig = Field(
        default_factory=OwnersConfig,
        description="who owns each asset group in the Dagster UI (emails or team: names)",
    )

    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings,
        description="pseudonymization of emails and names, and retention (docs/privacy.md)",
    )

    budgets_file: Path | None = Field(
        default=None,
        description="a YAML file of budgets (claude_assets/insights/budgets/file.py); none: no budgets "
        "(a relative path is read from the configuration file's folder)",
    )

    metric_revisions_file: Path | None = Field(
        default=None,
        description="a YAML file of metric revisions (claude_assets/ingest/revisions.py) added to the ones the "
        "project ships: days pulled before a revision took effect are pulled again once "
        "(a relative path is read from the configuration file's folder)",
    )

    @field_validator("budgets_file", "price_book_file", "metric_revisions_file")
    @classmethod
    def _file_exists(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        """The file's path (a relative one read from the configuration file's folder); it must exist."""
        if v is None:
            return None
        base = (info.context or {}).get("base_dir")
        path = v if v.is_absolute() or base is None else Path(base) / v
        if not path.is_file():
            what = {
                "budgets_file": "a YAML file of budgets",
                "price_book_file": "a CSV of price book rows",
                "metric_revisions_file": "a YAML file of metric revisions",
            }
            raise ValueError(
                f"no such file: {path} ({what[info.field_name]}; a relative path is read from the "
                "configuration file's folder)"
            )
        return path

    @model_validator(mode="after")
    def _unique_slugs(self) -> ProjectConfig:
        seen: set[str] = set()
        for org in self.organizations:
            if org.slug in seen:
                raise ValueError(f"organization slug {org.slug!r} appears twice")
            seen.add(org.slug)
        return self

    @model_validator(mode="after")
    def _raw_emails_need_pseudonyms(self) -> ProjectConfig:
        if self.privacy.raw_emails == "pseudonymize" and not self.pseudonymized_orgs:
            raise ValueError(
                "privacy.raw_emails: pseudonymize replaces raw emails with their pseudonyms, so it needs "
                "pseudonymization on: set privacy.pseudonymize: true (or pseudonymize: true on an organization)"
            )
        return self

    def pseudonymizes(self, slug: str) -> bool:
        """Whether organization ``slug``'s emails and names are pseudonymized below raw."""
        org = self.get(slug)
        return self.privacy.pseudonymize if org.pseudonymize is None else org.pseudonymize

    @property
    def pseudonymized_orgs(self) -> frozenset[str]:
        return frozenset(o.slug for o in self.organizations if self.pseudonymizes(o.slug))

    def of_kind(self, kind: str) -> tuple[OrgConfig, ...]:
        return tuple(o for o in self.organizations if o.kind == kind)

    def reading_analytics_api(self) -> tuple[OrgConfig, ...]:
        """The organizations whose Usage and Cost Analytics API is read (``OrgConfig.reads_analytics_api``)."""
        return tuple(o for o in self.organizations if o.reads_analytics_api)

    def get(self, slug: str) -> OrgConfig:
        for org in self.organizations:
            if org.slug == slug:
                return org
        raise KeyError(
            f"organization {slug!r} is not configured (configured: "
            f"{', '.join(o.slug for o in self.organizations) or 'none'})"
        )

    @property
    def history_start(self) -> date:
        return min((o.history_start for o in self.organizations), default=DEFAULT_HISTORY_START)


# -- the YAML file -----------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """The safe loader, minus implicit timestamps: dates stay strings so pydantic reports a bad one by field."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _field(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: yaml.Node, loc: tuple) -> int:
    """The 1-based line of the field at a pydantic error location: the line of its key, or (when the field
    is missing) of the mapping that lacks it."""
    found = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None
            )
            if match is None:
                break
            found, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            found = node.start_mark.line + 1
        else:
            break
    return found


def validation_problems(path: Path, node: yaml.Node, exc: ValidationError) -> list[str]:
    """Each of a pydantic error's problems as ``file:line: field: message`` (the line from ``node``)."""
    return [
        f"{path}:{_line_of(node, tuple(e['loc']))}: {_field(tuple(e['loc']))}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    ]


def _scalars(node: yaml.Node, loc: tuple = ()) -> list[tuple[int, tuple, yaml.Node]]:
    """(line, location, node) of every scalar in the document: mapping keys and values, list items."""
    out: list[tuple[int, tuple, yaml.Node]] = []
    if isinstance(node, yaml.ScalarNode):
        out.append((node.start_mark.line + 1, loc, node))
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else "?"
            out.append((k.start_mark.line + 1, (*loc, name), k))
            out += _scalars(v, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out += _scalars(v, (*loc, i))
    return out


def _duplicate_keys(node: yaml.Node, loc: tuple = ()) -> list[tuple[int, str]]:
    """PyYAML keeps the last of two equal keys silently; a configuration must not."""
    out: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else "?"
            if name in seen:
                out.append(
                    (k.start_mark.line + 1, f"{_field((*loc, name))}: appears twice in the same mapping")
                )
            seen.add(name)
            out += _duplicate_keys(v, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out += _duplicate_keys(v, (*loc, i))
    return out


def _keys_in_text(path: Path, text: str, node: yaml.Node | None) -> list[str]:
    """Every place the file holds something shaped like a key: a value (named by its field) or other text."""
    found: dict[int, str] = {}
    for line, loc, scalar in _scalars(node) if node is not None else []:
        if _KEY_IN_TEXT.search(scalar.value):
            found.setdefault(line, _field(loc))
    values = set(found)
    for n, line in enumerate(text.splitlines(), 1):
        if n not in values and _KEY_IN_TEXT.search(line):
            found[n] = "(comment or unparsed text)"
    return [f"{path}:{n}: {field}: {KEY_IN_FILE}" for n, field in sorted(found.items())]


def _fail(lines: list[str]) -> ConfigError:
    return ConfigError("invalid configuration:\n  " + "\n  ".join(lines))


def read_yaml(
    path: Path,
    *,
    what: str,
    top_level: str,
    error: type[ConfigError],
    fail: Callable[[list[str]], ConfigError],
) -> tuple[yaml.MappingNode, object]:
    """A YAML file's node tree (for the lines of later errors) and data; a problem raises ``error``
    (or, for a list of them, ``fail(lines)``) naming ``file:line``. ``what`` names the file in a read error, ``top_level`` what
    its top level must hold. No key may stand in the file, and no key may appear twice."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{path}:1: not a UTF-8 text file") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        # never str(exc): PyYAML quotes the offending line, which could hold anything
        keys = _keys_in_text(path, text, None)
        if keys:
            raise fail(keys) from None
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = min(mark.line + 1, max(1, len(text.splitlines()))) if mark else 1
        where = f"{path}:{line}"
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
        raise error(f"{where}: (YAML syntax): not valid YAML ({problem})") from None
    problems = _keys_in_text(path, text, node)
    if problems:
        raise fail(problems)
    if node is None or not isinstance(node, yaml.MappingNode):
        raise error(f"{path}:1: (top level): expected a mapping with {top_level}")
    dups = _duplicate_keys(node)
    if dups:
        raise fail([f"{path}:{line}: {msg}" for line, msg in dups])
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except (yaml.YAMLError, ValueError) as exc:  # composes but does not construct (e.g. an explicit bad tag)
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise error(
            f"{path}:{mark.line + 1 if mark else 1}: (YAML value): "
            f"{getattr(exc, 'problem', None) or type(exc).__name__}"
        ) from None
    return node, data


def load_file(path: str | Path) -> ProjectConfig:
    """Read and validate one YAML configuration file; every problem names ``file:line: field``."""
    path = Path(path)
    node, data = read_yaml(
        path, what="configuration file", top_level="an 'organizations' list", error=ConfigError, fail=_fail
    )
    orgs = data.get("organizations")
    if isinstance(orgs, list) and not orgs:
        raise ConfigError(
            f"{path}:{_line_of(node, ('organizations',))}: organizations: list at least one organization"
        )
    if isinstance(orgs, list):  # duplicate slugs, reported where the second one is
        seen: dict[object, int] = {}
        for i, org in enumerate(orgs):
            slug = org.get("slug") if isinstance(org, dict) else None
            if not isinstance(slug, str):
                continue
            if slug in seen:
                raise ConfigError(
                    f"{path}:{_line_of(node, ('organizations', i, 'slug'))}: "
                    f"{_field(('organizations', i, 'slug'))}: the slug {slug!r} is already used by "
                    f"organizations[{seen[slug]}]; slugs must be unique"
                )
            seen[slug] = i
    try:
        return ProjectConfig.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        raise _fail(validation_problems(path, node, exc)) from None


def load_config(environ: dict[str, str] | None = None) -> ProjectConfig:
    """The project's organizations: from ``CLAUDE_ASSETS_CONFIG`` if set, else from the key variables."""
    env = os.environ if environ is None else environ
    path = env.get("CLAUDE_ASSETS_CONFIG", "").strip()
    if path:
        return load_file(path)
    base_url = env.get("ANTHROPIC_BASE_URL", "").strip()
    if base_url:
        try:
            check_base_url(base_url)
        except ValueError as exc:
            raise ConfigError(f"environment variable ANTHROPIC_BASE_URL: {exc}") from None
    orgs = [
        OrgConfig(slug=slug, kind=kind, key_env=var)
        for kind, (slug, var) in ENV_MODE.items()
        if env.get(var, "").strip()
    ]
    if not orgs:
        # no key at all: both organizations exist (so their partitions do), and a run of either one
        # fails naming the variable to set, instead of Dagster refusing an unknown partition key
        orgs = [OrgConfig(slug=slug, kind=kind, key_env=var) for kind, (slug, var) in ENV_MODE.items()]
    return ProjectConfig(organizations=tuple(orgs))


# -- the warehouse file ------------------------------------------------------------------------------------
#: the schemas the project writes (raw, inventory, facts, insights, exports) and the ones DuckDB reads its catalog from
WAREHOUSE_SCHEMAS = frozenset(
    {"raw", "inventory", "facts", "insights", "exports", "information_schema", "pg_catalog"}
)


def database_name(path: str | Path) -> str:
    """The name DuckDB gives the database in a file: its file name up to the first dot (leading dots skipped)."""
    return next((part for part in Path(path).name.split(".") if part), "")


def check_warehouse_path(path: str | Path) -> str:
    """Refuse a warehouse file DuckDB would name like one of the project's schemas.

    DuckDB names an attached database after its file name up to the first dot (``data/raw.duckdb`` is the
    database ``raw``), and then ``raw.console_cost`` is ambiguous between that database and the schema
    ``raw``: every query of the schema would fail."""
    text = str(path)
    if text == ":memory:" or re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", text):  # in memory, or remote (md:, s3:)
        return text
    name = database_name(text)
    if name.lower() in WAREHOUSE_SCHEMAS:
        raise ConfigError(
            f"warehouse file {text}: DuckDB would name the database {name!r}, the name of the schema "
            f"{name.lower()} the project reads or writes, so every query of {name.lower()}.* would be ambiguous. "
            f"Name the file otherwise (e.g. {Path(text).with_name('warehouse.duckdb')}) with "
            "CLAUDE_ASSETS_WAREHOUSE."
        )
    return text

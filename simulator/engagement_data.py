"""Deterministic engagement data behind the Enterprise Analytics engagement endpoints (B1-B7).

Everything is derived from the shared :class:`~simulator.activity.ActivityPlan`: only users the plan
marks active on a day have activity that day, and only on the surfaces the plan gives them (a user
with Claude Code activity here is a user with Claude Code tokens in the usage/cost reports).

Per day the generator produces

* one row of per-user metrics per active user (the ``/analytics/users`` record, flattened into
  numpy columns keyed by dotted path, e.g. ``chat_metrics.message_count``), and
* per-user *events* for projects, skills, connectors, plugins and artifacts (one row per user x
  entity x product x Office app), so that every grouped, filtered or date-range rollup view is an
  exact aggregation of the same events: distinct user counts are recomputed over the window,
  never summed.

The per-user metrics are computed from the same events (e.g. ``cowork_metrics.skills_used_count`` is
the user's Cowork skill invocations in ``/skills``), so totals agree across endpoints.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from simulator.activity import ActivityPlan
from simulator.app import register_data
from simulator.catalog import format_cents
from simulator.ids import make_id, make_uuid, np_rng, rng
from simulator.truth import provider
from simulator.world import Organization, day_start, iso

# -- products and fixed vocabularies ----------------------------------------------------------------
CHAT, CODE, COWORK, OFFICE = 0, 1, 2, 3
PRODUCTS = ("chat", "claude_code", "cowork", "office_agent")
PRODUCT_CODE = {p: i for i, p in enumerate(PRODUCTS)}
OFFICE_APPS = ("excel", "outlook", "powerpoint", "word")

#: Canonical artifact MIME types (8 values incl. ``other``), in sort order.
ARTIFACT_TYPES = (
    "application/vnd.ant.code",
    "application/vnd.ant.mermaid",
    "application/vnd.ant.react",
    "image/svg+xml",
    "other",
    "text/csv",
    "text/html",
    "text/markdown",
)
_ARTIFACT_CHAT_WEIGHTS = (0.22, 0.06, 0.16, 0.05, 0.04, 0.05, 0.12, 0.30)
_HTML = ARTIFACT_TYPES.index("text/html")

#: Data-start dates documented in the SDK 2.12 field descriptions.
CODE_COWORK_ARTIFACTS_FROM = date(2026, 8, 17)
CALL_SPLIT_FROM = date(2026, 5, 29)  # read/write/unclassified connector calls: null before
CLASSIFIED_FROM = {
    CHAT: date(2026, 6, 1),
    CODE: date(2026, 5, 30),
    OFFICE: date(2026, 5, 29),
    COWORK: date(2026, 6, 2),
}
MANAGED_AUTH_FROM = date(2026, 7, 1)
OFFICE_ATTRIBUTION_FROM = date(2026, 6, 18)

AUTH_NONE, AUTH_MANAGED, AUTH_INDIVIDUAL = 0, 1, 2


# -- the /analytics/users record as flat columns ----------------------------------------------------
def _office(app: str) -> list[str]:
    return [
        f"office_metrics.{app}.{k}"
        for k in (
            "distinct_session_count",
            "message_count",
            "skills_used_count",
            "distinct_skills_used_count",
            "connectors_used_count",
            "distinct_connectors_used_count",
        )
    ]


#: Numeric leaves of the user record, in wire order (None = always null "while not enabled").
USER_LAYOUT: tuple[tuple[str, bool], ...] = tuple(
    [
        (p, True)
        for p in (
            "chat_metrics.message_count",
            "chat_metrics.thinking_message_count",
            "chat_metrics.distinct_conversation_count",
            "chat_metrics.distinct_files_uploaded_count",
            "chat_metrics.distinct_projects_created_count",
            "chat_metrics.distinct_projects_used_count",
            "chat_metrics.distinct_artifacts_created_count",
            "chat_metrics.distinct_shared_artifacts_viewed_count",
            "chat_metrics.distinct_skills_used_count",
            "chat_metrics.connectors_used_count",
            "chat_metrics.distinct_connectors_used_count",
            "chat_metrics.shared_conversations_viewed_count",
            "claude_code_metrics.core_metrics.distinct_session_count",
            "claude_code_metrics.core_metrics.commit_count",
            "claude_code_metrics.core_metrics.pull_request_count",
            "claude_code_metrics.core_metrics.artifacts_created_count",
            "claude_code_metrics.core_metrics.lines_of_code.added_count",
            "claude_code_metrics.core_metrics.lines_of_code.removed_count",
            *(
                f"claude_code_metrics.tool_actions.{t}.{k}"
                for t in ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
                for k in ("accepted_count", "rejected_count")
            ),
            "cowork_metrics.distinct_session_count",
            "cowork_metrics.message_count",
            "cowork_metrics.action_count",
            "cowork_metrics.dispatch_turn_count",
            "cowork_metrics.skills_used_count",
            "cowork_metrics.distinct_skills_used_count",
            "cowork_metrics.connectors_used_count",
            "cowork_metrics.distinct_connectors_used_count",
            "cowork_metrics.artifacts_created_count",
        )
    ]
    + [
        (f"cowork_metrics.{p}", False)
        for p in (
            "plugins_used_count",
            "distinct_plugins_used_count",
            "file_edit_count",
            "edit_tool_count",
            "multi_edit_tool_count",
            "write_tool_count",
            "notebook_edit_tool_count",
            "sessions_with_file_edits_count",
        )
    ]
    + [
        (p, True)
        for p in (
            "design_metrics.distinct_session_count",
            "design_metrics.message_count",
            "design_metrics.distinct_projects_created_count",
            "design_metrics.distinct_projects_used_count",
            *(p for app in OFFICE_APPS for p in _office(app)),
            "science_metrics.distinct_session_count",
            "science_metrics.message_count",
            "science_metrics.delegation_count",
            "science_metrics.remote_compute_job_count",
            "science_metrics.skills_used_count",
            "web_search_count",
            "claude_tag_metrics.active_day_count",
            "claude_tag_metrics.active_message_count",
        )
    ]
)
USER_COLUMNS = tuple(p for p, enabled in USER_LAYOUT if enabled)

#: Distinct counts over entities a user can use on several days / several users can share. In
#: date-range mode they are recomputed exactly from the events; on rows aggregated across users they
#: cannot be computed and are null (as documented: "Null on aggregated rows where a distinct count
#: cannot be computed").
_ENTITY_DISTINCT = {
    "chat_metrics.distinct_projects_used_count": ("projects", None, None),
    "chat_metrics.distinct_skills_used_count": ("skills", CHAT, None),
    "chat_metrics.distinct_connectors_used_count": ("connectors", CHAT, None),
    "cowork_metrics.distinct_skills_used_count": ("skills", COWORK, None),
    "cowork_metrics.distinct_connectors_used_count": ("connectors", COWORK, None),
    **{
        f"office_metrics.{app}.distinct_skills_used_count": ("skills", OFFICE, i)
        for i, app in enumerate(OFFICE_APPS)
    },
    **{
        f"office_metrics.{app}.distinct_connectors_used_count": ("connectors", OFFICE, i)
        for i, app in enumerate(OFFICE_APPS)
    },
}
#: Distinct counts with no event trail: null in date-range mode and on aggregated rows.
_UNTRACKED_DISTINCT = (
    "chat_metrics.distinct_shared_artifacts_viewed_count",
    "design_metrics.distinct_projects_used_count",
)


# -- catalogues ---------------------------------------------------------------------------------------
_PROJECT_ADJ = (
    "Q3",
    "Q4",
    "Customer",
    "Brand",
    "Platform",
    "Security",
    "Pricing",
    "Onboarding",
    "Hiring",
    "Board",
    "Vendor",
    "Data",
    "Product",
    "Partner",
    "Legal",
    "Support",
    "Sales",
    "Research",
    "Finance",
    "Ops",
)
_PROJECT_NOUN = (
    "planning",
    "research",
    "playbook",
    "review",
    "roadmap",
    "migration",
    "launch",
    "FAQ",
    "analysis",
    "templates",
    "knowledge base",
    "retro",
    "briefs",
    "notes",
    "proposals",
)

_BUILTIN_SKILLS = (  # (name, products) - Anthropic-provided skills with readable names
    ("pdf", (CHAT, CODE, COWORK, OFFICE)),
    ("docx", (CHAT, CODE, COWORK, OFFICE)),
    ("xlsx", (CHAT, CODE, COWORK, OFFICE)),
    ("pptx", (CHAT, CODE, COWORK, OFFICE)),
    ("canvas-design", (CHAT, COWORK)),
    ("frontend-design", (CHAT, CODE, COWORK)),
    ("skill-creator", (CHAT, CODE, COWORK)),
    ("mcp-builder", (CODE, COWORK)),
    ("webapp-testing", (CODE,)),
    ("algorithmic-art", (CHAT,)),
    ("internal-comms", (CHAT, COWORK, OFFICE)),
    ("doc-coauthoring", (CHAT, COWORK, OFFICE)),
    ("theme-factory", (CHAT, COWORK)),
    ("brand-guidelines", (CHAT, COWORK, OFFICE)),
    ("slack-gif-creator", (CHAT,)),
)
_ORG_SKILLS = (
    "Brand voice",
    "Quarterly business review",
    "Contract review checklist",
    "Sales call prep",
    "Incident postmortem",
    "Release notes writer",
    "Board deck formatter",
    "Customer FAQ",
    "Hiring rubric",
    "Expense policy",
    "Security questionnaire",
    "Data dictionary",
    "OKR drafting",
    "Onboarding guide",
    "Pricing calculator",
)
_PLUGIN_SKILLS = ("release-checklist", "sql-style")

_CONNECTORS = (  # (normalized name, auth, aliases)
    ("atlassian", AUTH_MANAGED, ("Atlassian MCP server", "mcp-atlassian", "Atlassian")),
    ("google_drive", AUTH_MANAGED, ("Google Drive",)),
    ("slack", AUTH_MANAGED, ("Slack MCP",)),
    ("github", AUTH_INDIVIDUAL, ("GitHub MCP", "GitHub")),
    ("notion", AUTH_INDIVIDUAL, ("Notion MCP",)),
    ("gmail", AUTH_MANAGED, ("Gmail",)),
    ("google_calendar", AUTH_MANAGED, ("Google Calendar",)),
    ("linear", AUTH_INDIVIDUAL, ("Linear MCP",)),
    ("asana", AUTH_INDIVIDUAL, ("Asana",)),
    ("salesforce", AUTH_MANAGED, ("Salesforce",)),
    ("hubspot", AUTH_INDIVIDUAL, ("HubSpot",)),
    ("figma", AUTH_INDIVIDUAL, ("Figma Dev Mode MCP",)),
    ("box", AUTH_MANAGED, ("Box",)),
    ("sentry", AUTH_INDIVIDUAL, ("Sentry MCP",)),
    ("zapier", AUTH_INDIVIDUAL, ("Zapier MCP",)),
    ("intercom", AUTH_INDIVIDUAL, ("Intercom",)),
    ("zendesk", AUTH_MANAGED, ("Zendesk",)),
    ("snowflake", AUTH_MANAGED, ("Snowflake",)),
    ("databricks", AUTH_MANAGED, ("Databricks",)),
    ("monday", AUTH_INDIVIDUAL, ("monday.com",)),
)
_INTERNAL_CONNECTORS = (
    "{Company} Internal Wiki",
    "{Company} Data Catalog",
    "{Company} Ticketing (self-hosted)",
    "GitHub Enterprise ({Company})",
)

_PLUGINS = (  # (plugin_name, plugin_id or None, products)
    ("serena", "serena@claude-plugins-official", (CODE,)),
    ("commit-commands", "commit-commands@claude-plugins-official", (CODE,)),
    ("pr-review-toolkit", "pr-review-toolkit@claude-plugins-official", (CODE,)),
    ("frontend-design", "frontend-design@claude-plugins-official", (CODE, COWORK)),
    ("productivity", "productivity@knowledge-work-plugins", (COWORK,)),
    ("sales", "sales@knowledge-work-plugins", (COWORK,)),
    ("third-party", None, (CODE, COWORK)),
    ("github", "github@claude-plugins-official", (CODE,)),
    ("finance", "finance@knowledge-work-plugins", (COWORK,)),
    ("security-guidance", "security-guidance@claude-plugins-official", (CODE,)),
    ("legal", "legal@knowledge-work-plugins", (COWORK,)),
    ("feature-dev", "feature-dev@claude-plugins-official", (CODE,)),
    ("data", "data@knowledge-work-plugins", (COWORK,)),
    ("weekly-report", None, (COWORK,)),  # a Cowork slash command that carries only a hashed id
)


def normalize_connector(value: str) -> str:
    """The normalized connector name of a display name (``Atlassian MCP server``, ``mcp-atlassian`` -> ``atlassian``)."""
    v = value.strip().lower()
    for suffix in (" mcp server", " mcp", " connector", "-mcp"):
        v = v.removesuffix(suffix)
    for prefix in ("mcp-", "mcp "):
        v = v.removeprefix(prefix)
    return v.strip().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Entities:
    """A catalogue (projects, skills, connectors, plugins): names in sort order plus per-entity arrays."""

    names: tuple[str, ...]
    weight: np.ndarray  # popularity
    allowed: np.ndarray  # [E, 4] bool: products the entity can be used on
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.names)}


@dataclass
class DayData:
    """One day of engagement: per-user metric columns and per-user events of each kind."""

    day: date
    users: dict[str, np.ndarray]  # "user", "day" + USER_COLUMNS, one row per active user
    events: dict[str, dict[str, np.ndarray]]  # kind -> columns (always "user", "day", "ent", "prod", ...)

    @cached_property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.users.values()) + sum(
            v.nbytes for ev in self.events.values() for v in ev.values()
        )


@dataclass
class Table:
    """A query result: equal-length columns plus per-column null masks."""

    cols: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def take(self, order: np.ndarray) -> Table:
        return Table(
            {k: v[order] for k, v in self.cols.items()}, {k: v[order] for k, v in self.nulls.items()}
        )

    def null(self, path: str) -> np.ndarray:
        return self.nulls.get(path, np.zeros(self.n, dtype=bool))


@dataclass(frozen=True)
class Scope:
    """Filters and grouping of an entity or user query (all already validated)."""

    users: np.ndarray | None = None  # [U] bool: user_id and rbac_group_id filters combined
    groups: np.ndarray | None = None  # [G] bool: the rbac_group_id filter's groups (for grouped rows)
    entities: np.ndarray | None = (
        None  # [E] bool: entity filter (project/skill/connector/plugin/artifact cell)
    )
    products: tuple[int, ...] | None = None  # product filter
    group_by: tuple[str, ...] = ()  # subset of product, user_id, rbac_group_id
    has_user_scope: bool = False  # a user_id or rbac_group_id filter was given


# -- helpers ------------------------------------------------------------------------------------------
def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def _take(ev: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in ev.items()}


def _bsum(inv: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    if values.dtype == bool:
        values = values.astype(np.int64)
    return np.rint(np.bincount(inv, weights=values, minlength=n)).astype(np.int64)


def _count(inv: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(inv, minlength=n).astype(np.int64)


def _distinct(
    inv: np.ndarray, n: int, values: np.ndarray, radix: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Per group, the number of distinct ``values`` (users, entities) among the rows (optionally masked)."""
    if mask is not None:
        inv, values = inv[mask], values[mask]
    pairs = np.unique(inv.astype(np.int64) * radix + values.astype(np.int64))
    return np.bincount((pairs // radix).astype(np.int64), minlength=n).astype(np.int64)


def _group(
    ev: dict[str, np.ndarray], keys: Sequence[tuple[str, int]]
) -> tuple[np.ndarray, int, dict[str, np.ndarray]]:
    """Group rows by the key columns (each with its radix): (inverse, number of groups, key columns per group)."""
    size = len(ev["user"])
    if not keys:
        return np.zeros(size, dtype=np.int64), (1 if size else 0), {}
    code = np.zeros(size, dtype=np.int64)
    for k, radix in keys:
        code = code * radix + ev[k].astype(np.int64)
    uniq, inv = np.unique(code, return_inverse=True)
    out: dict[str, np.ndarray] = {}
    rest = uniq.copy()
    for k, radix in reversed(keys):
        out[k] = rest % radix
        rest //= radix
    return inv.reshape(-1).astype(np.int64), len(uniq), out


def _pick(g: np.random.Generator, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``counts[i]`` entities for each owner i (weighted, distinct per owner): (owner, entity) pairs."""
    counts = np.asarray(counts, dtype=np.int64)
    total = float(weights.sum())
    draws = np.repeat(np.arange(len(counts), dtype=np.int64), np.maximum(counts, 0))
    if draws.size == 0 or total <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cdf = np.cumsum(weights) / total
    ent = np.minimum(np.searchsorted(cdf, g.random(draws.size), side="right"), len(weights) - 1)
    e = len(weights)
    key = np.unique(draws * e + ent)
    return key // e, key % e


def _units(g: np.random.Generator, budget: np.ndarray, p: float) -> np.ndarray:
    """Sessions/conversations that used an entity: at least 1, at most ``budget`` (>= 1)."""
    return 1 + g.binomial(np.maximum(budget - 1, 0), p)


def _split_calls(g, calls: np.ndarray, classified: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    read = g.binomial(calls, 0.45)
    write = g.binomial(calls - read, 0.4)
    uncl = calls - read - write
    z = np.zeros_like(calls)
    return np.where(classified, read, z), np.where(classified, write, z), np.where(classified, uncl, z)


# -- the generator ------------------------------------------------------------------------------------
class EngagementData:
    """Engagement for one Enterprise organization; bound to the simulator's ActivityPlan on first use."""

    DAY_CACHE_BYTES = 256 * 2**20  # per organization: every day of a small org, ~85 days of a 10,000-seat one
    RESULT_CACHE = 96

    def __init__(self, org: Organization) -> None:
        self.org = org
        self.plan: ActivityPlan | None = None
        self._lock = threading.Lock()
        self._days: OrderedDict[date, DayData] = OrderedDict()
        self._day_bytes = 0
        self._results: OrderedDict[tuple, object] = OrderedDict()

    # -- caches -----------------------------------------------------------------------------------------
    def cached(self, key: tuple, build: Callable[[], object]):
        """An LRU of query results (sorted tables, summary series) keyed by the canonical query."""
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = build()
        with self._lock:
            self._results[key] = value
            while len(self._results) > self.RESULT_CACHE:
                self._results.popitem(last=False)
        return value

    def day(self, d: date) -> DayData:
        with self._lock:
            if d in self._days:
                self._days.move_to_end(d)
                return self._days[d]
        value = self._build_day(d)
        with self._lock:
            if d not in self._days:
                self._days[d] = value
                self._day_bytes += value.nbytes
            while self._day_bytes > self.DAY_CACHE_BYTES and len(self._days) > 1:
                self._day_bytes -= self._days.popitem(last=False)[1].nbytes
        return value

    # -- people and groups --------------------------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.org.users)

    @cached_property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.org.users)

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u.id: i for i, u in enumerate(self.org.users)}

    @cached_property
    def user_objects(self) -> tuple[dict, ...]:
        """The ``user`` object of /analytics/users rows (shared, read-only)."""
        return tuple({"id": u.id, "email_address": u.email, "type": "user"} for u in self.org.users)

    @cached_property
    def email_rank(self) -> np.ndarray:
        return _rank([u.email for u in self.org.users])

    @cached_property
    def user_id_rank(self) -> np.ndarray:
        return _rank(list(self.user_ids))

    @cached_property
    def group_ids(self) -> tuple[str, ...]:
        return self.plan.rbac_group_ids

    @cached_property
    def group_names(self) -> tuple[str, ...]:
        return ActivityPlan.GROUPS

    @cached_property
    def group_uuids(self) -> tuple[str, ...]:
        return tuple(
            make_uuid(self.org.world_seed, self.org.slug, "rbac_group", g) for g in ActivityPlan.GROUPS
        )

    @cached_property
    def group_rank(self) -> np.ndarray:
        return _rank(list(self.group_ids))

    @cached_property
    def rbac(self) -> np.ndarray:
        return self.plan.traits.rbac_groups

    def group_for(self, value: str) -> int | None:
        """The group a filter value names: tagged ``rbac_group_...`` id or bare UUID (None if unknown)."""
        if value in self.group_ids:
            return self.group_ids.index(value)
        if value.lower() in self.group_uuids:
            return self.group_uuids.index(value.lower())
        return None

    @cached_property
    def office_pref(self) -> np.ndarray:
        return np_rng(self.org.world_seed, self.org.slug, "office-app").integers(0, 4, self.n_users)

    # -- catalogues -------------------------------------------------------------------------------------
    @property
    def seats(self) -> int:
        return self.org.company.enterprise.seats

    @cached_property
    def projects(self) -> Entities:
        """Chat projects: ``claude_proj_...`` ids (sorted), creator chosen among users active in chat that day."""
        org, n = self.org, 20 + self.seats // 10
        g = np_rng(org.world_seed, org.slug, "projects")
        start = org.created.toordinal()
        span = (date(2026, 12, 31) - org.created).days
        created = start + np.sort(g.integers(0, span, n))
        raw = []
        for j in range(n):
            r = rng(org.world_seed, org.slug, "project", j)
            d = date.fromordinal(int(created[j]))
            act = self.plan.day(d)
            pool = np.flatnonzero(act.surfaces["chat"])
            if pool.size == 0:
                pool = np.flatnonzero(act.member)
            creator = int(pool[r.randrange(pool.size)]) if pool.size else 0
            at = day_start(d) + timedelta(seconds=r.randrange(7 * 3600, 19 * 3600))
            raw.append(
                (
                    make_id("claude_proj", org.world_seed, org.slug, j),
                    f"{r.choice(_PROJECT_ADJ)} {r.choice(_PROJECT_NOUN)}",
                    d.toordinal(),
                    iso(at),
                    creator,
                    r.random() >= 0.05,
                    r.lognormvariate(0, 1.0),
                )
            )
        raw.sort(key=lambda x: x[0])
        allowed = np.zeros((n, 4), dtype=bool)
        allowed[:, CHAT] = True
        return Entities(
            tuple(x[0] for x in raw),
            np.array([x[6] for x in raw]),
            allowed,
            {
                "name": tuple(x[1] for x in raw),
                "created_day": np.array([x[2] for x in raw], dtype=np.int64),
                "created_at": tuple(x[3] for x in raw),
                "creator": np.array([x[4] for x in raw], dtype=np.int64),
                "attributed": np.array([x[5] for x in raw], dtype=bool),
            },
        )

    @cached_property
    def skills(self) -> Entities:
        org = self.org
        r = rng(org.world_seed, org.slug, "skills")
        company = org.company.name.split()[0]
        rows = []  # (skill_name, display, share_status, products)
        for name, prods in _BUILTIN_SKILLS:
            rows.append((name, None, "public", prods))
        for k in range(min(15, 3 + self.seats // 100)):
            rows.append(
                (
                    make_id("skill", org.world_seed, org.slug, "org", k),
                    f"{company} {_ORG_SKILLS[k].lower()}" if k == 0 else _ORG_SKILLS[k],
                    "organization",
                    (CHAT, CODE, COWORK, OFFICE),
                )
            )
        for k in range(min(7, 2 + self.seats // 1000)):
            rows.append(
                (make_id("skill", org.world_seed, org.slug, "private", k), None, "private", (CHAT, COWORK))
            )
        for name in _PLUGIN_SKILLS:
            rows.append(
                (
                    make_id("skill", org.world_seed, org.slug, "plugin", name),
                    f"{company.lower()}-tools:{name}",
                    None,
                    (CODE,),
                )
            )
        rows.append(("unknown", "Unknown skill", None, (CODE, COWORK, OFFICE)))
        rows.sort(key=lambda x: x[0])
        allowed = np.zeros((len(rows), 4), dtype=bool)
        for i, row in enumerate(rows):
            allowed[i, list(row[3])] = True
        weight = np.array([r.lognormvariate(0, 1.0) for _ in rows])
        price = np.array(
            [int(r.lognormvariate(math.log(6e6), 0.6)) for _ in rows], dtype=np.int64
        )  # µ¢/invocation
        return Entities(
            tuple(x[0] for x in rows),
            weight,
            allowed,
            {
                "display": tuple(x[1] for x in rows),
                "share": tuple(x[2] for x in rows),
                "price": price,
                "shareable": np.array([x[2] is not None for x in rows], dtype=bool),
            },
        )

    @cached_property
    def connectors(self) -> Entities:
        org = self.org
        r = rng(org.world_seed, org.slug, "connectors")
        company = org.company.name.split()[0]
        rows = []  # (connector_name, display, auth, aliases)
        for name, auth, aliases in _CONNECTORS[: 10 + min(10, self.seats // 500)]:
            rows.append((name, None, auth, aliases))
        for k in range(1 + min(3, self.seats // 2000)):
            display = _INTERNAL_CONNECTORS[k].format(Company=company)
            rows.append((make_id("mcpsrv", org.world_seed, org.slug, k), display, AUTH_NONE, ()))
        rows.sort(key=lambda x: x[0])
        weight = np.array([r.lognormvariate(0, 0.9) for _ in rows])
        return Entities(
            tuple(x[0] for x in rows),
            weight,
            np.ones((len(rows), 4), dtype=bool),
            {
                "display": tuple(x[1] for x in rows),
                "auth": np.array([x[2] for x in rows], dtype=np.int64),
                "aliases": tuple(x[3] for x in rows),
            },
        )

    @cached_property
    def plugins(self) -> Entities:
        org = self.org
        r = rng(org.world_seed, org.slug, "plugins")
        slug = org.company.slug
        rows = list(_PLUGINS[: 9 + min(5, self.seats // 1000)])
        rows += [
            (f"{slug}-deploy", f"{slug}-deploy@{slug}-marketplace", (CODE,)),
            (f"{slug}-brand", f"{slug}-brand@{slug}-marketplace", (COWORK,)),
        ]
        rows.sort(key=lambda x: x[0])
        allowed = np.zeros((len(rows), 4), dtype=bool)
        for i, row in enumerate(rows):
            allowed[i, list(row[2])] = True
        weight = np.array([3.0 if x[0] == "third-party" else r.lognormvariate(0, 0.8) for x in rows])
        return Entities(tuple(x[0] for x in rows), weight, allowed, {"plugin_id": tuple(x[1] for x in rows)})

    @cached_property
    def artifact_cells(self) -> tuple[tuple[str, bool], ...]:
        """Artifact entity ``e`` = (type, is_shared) with e = 2 * type + shared."""
        return tuple((t, s) for t in ARTIFACT_TYPES for s in (False, True))

    def catalogue(self, kind: str) -> Entities:
        return {
            "projects": self.projects,
            "skills": self.skills,
            "connectors": self.connectors,
            "plugins": self.plugins,
        }[kind]

    def n_entities(self, kind: str) -> int:
        return len(self.artifact_cells) if kind == "artifacts" else len(self.catalogue(kind))

    # -- one day -------------------------------------------------------------------------------------------
    def _build_day(self, d: date) -> DayData:
        org, plan = self.org, self.plan
        a = plan.day(d)
        users = np.flatnonzero(a.active).astype(np.int64)
        n = users.size
        inten = a.intensity[users]
        s = {k: v[users] for k, v in a.surfaces.items()}
        chat, code, cowork, office, design = (
            s["chat"],
            s["claude_code"],
            s["cowork"],
            s["office_agent"],
            s["claude_design"],
        )
        g = np_rng(org.world_seed, org.slug, "engagement", d.isoformat())
        zero = np.zeros(n, dtype=np.int64)

        def pois(lam, mask):
            return np.where(mask, g.poisson(np.broadcast_to(lam, mask.shape)), 0).astype(np.int64)

        c: dict[str, np.ndarray] = {}
        # chat
        msg = chat + pois(9 * inten, chat)
        conv = chat + g.binomial(np.maximum(msg - 1, 0), 0.2)
        thinking = g.binomial(msg, 0.15)
        c["chat_metrics.message_count"] = msg
        c["chat_metrics.thinking_message_count"] = thinking
        c["chat_metrics.distinct_conversation_count"] = conv
        c["chat_metrics.distinct_files_uploaded_count"] = pois(0.5 * inten, chat)
        c["chat_metrics.distinct_shared_artifacts_viewed_count"] = pois(0.12, chat)
        c["chat_metrics.shared_conversations_viewed_count"] = pois(0.2, chat)
        c["web_search_count"] = pois(1.2 * inten, chat) + pois(0.6 * inten, cowork)
        # claude code
        sess = code + pois(1.6 * inten, code)
        commits = pois(0.8 * sess, code)
        added = np.where(code, (g.lognormal(4.6, 1.0, n) * sess).astype(np.int64), 0)
        c["claude_code_metrics.core_metrics.distinct_session_count"] = sess
        c["claude_code_metrics.core_metrics.commit_count"] = commits
        c["claude_code_metrics.core_metrics.pull_request_count"] = g.binomial(commits, 0.3)
        c["claude_code_metrics.core_metrics.lines_of_code.added_count"] = added
        c["claude_code_metrics.core_metrics.lines_of_code.removed_count"] = (
            added * g.uniform(0.05, 0.6, n)
        ).astype(np.int64)
        for tool, acc, rej in (
            ("edit_tool", 6.0, 0.6),
            ("multi_edit_tool", 0.3, 0.03),
            ("notebook_edit_tool", 0.05, 0.005),
            ("write_tool", 1.5, 0.15),
        ):
            c[f"claude_code_metrics.tool_actions.{tool}.accepted_count"] = pois(acc * sess, code)
            c[f"claude_code_metrics.tool_actions.{tool}.rejected_count"] = pois(rej * sess, code)
        # cowork
        csess = cowork + pois(0.7 * inten, cowork)
        c["cowork_metrics.distinct_session_count"] = csess
        c["cowork_metrics.message_count"] = csess + pois(4 * inten, cowork)
        c["cowork_metrics.action_count"] = pois(6 * csess, cowork)
        c["cowork_metrics.dispatch_turn_count"] = pois(0.3 * csess, cowork)
        # design
        dsess = design + pois(0.4 * inten, design)
        c["design_metrics.distinct_session_count"] = dsess
        c["design_metrics.message_count"] = dsess + pois(5 * inten, design)
        c["design_metrics.distinct_projects_created_count"] = (design & (g.random(n) < 0.12)).astype(np.int64)
        c["design_metrics.distinct_projects_used_count"] = np.where(design, _units(g, dsess, 0.3), 0)
        # office: a preferred app, sometimes a second one
        pref = self.office_pref[users]
        second = (pref + 1 + g.integers(0, 3, n)) % 4
        apps = np.zeros((n, 4), dtype=bool)
        apps[np.arange(n), pref] = office
        apps[np.arange(n), second] |= office & (g.random(n) < 0.3)
        osess = np.where(apps, 1 + g.poisson(np.broadcast_to(0.5 * inten[:, None], (n, 4))), 0).astype(
            np.int64
        )
        omsg = osess + np.where(apps, g.poisson(np.broadcast_to(3 * inten[:, None], (n, 4))), 0).astype(
            np.int64
        )
        for i, app in enumerate(OFFICE_APPS):
            c[f"office_metrics.{app}.distinct_session_count"] = osess[:, i]
            c[f"office_metrics.{app}.message_count"] = omsg[:, i]
        # science and Claude Tag: offered, measured, unused by the simulated organizations
        for p in (
            "distinct_session_count",
            "message_count",
            "delegation_count",
            "remote_compute_job_count",
            "skills_used_count",
        ):
            c[f"science_metrics.{p}"] = zero
        c["claude_tag_metrics.active_day_count"] = zero
        c["claude_tag_metrics.active_message_count"] = zero

        budgets = {CHAT: conv, CODE: sess, COWORK: csess}
        surface = {CHAT: chat, CODE: code, COWORK: cowork}
        pos = np.full(self.n_users, -1, dtype=np.int64)
        pos[users] = np.arange(n)
        events: dict[str, dict[str, np.ndarray]] = {}

        def ev(rows: np.ndarray, ent: np.ndarray, prod, app, **cols) -> dict[str, np.ndarray]:
            m = rows.size
            out = {
                "user": users[rows],
                "day": np.full(m, d.toordinal(), dtype=np.int64),
                "ent": ent.astype(np.int64),
                "prod": np.broadcast_to(np.asarray(prod, dtype=np.int64), (m,)).copy(),
                "app": np.broadcast_to(np.asarray(app, dtype=np.int64), (m,)).copy(),
            }
            out.update({k: np.asarray(v).astype(np.int64) for k, v in cols.items()})
            return out

        def per_surface(cat: Entities, rates: dict[int, tuple[float, int]], unit_p: float, build) -> dict:
            """Events of one kind for chat / Claude Code / Cowork users and per-app Office users."""
            parts = []
            for prod in (CHAT, CODE, COWORK):
                rate, cap = rates[prod]
                k = np.minimum(pois(rate * inten, surface[prod]), cap)
                rows, ent = _pick(g, k, cat.weight * cat.allowed[:, prod])
                parts.append(
                    build(rows, ent, prod, np.full(rows.size, -1), _units(g, budgets[prod][rows], unit_p))
                )
            rate, cap = rates[OFFICE]
            lam = np.broadcast_to(rate * inten[:, None], (n, 4))
            k = np.minimum(np.where(apps, g.poisson(lam), 0), cap).reshape(-1)
            flat, ent = _pick(g, k, cat.weight * cat.allowed[:, OFFICE])
            rows, app = flat // 4, flat % 4
            parts.append(build(rows, ent, OFFICE, app, _units(g, osess[rows, app], unit_p)))
            return _concat(parts)

        # projects (chat only): each project use gets >= 1 of the user's conversations and messages
        pj = self.projects
        existing = pj.weight * (pj.extra["created_day"] <= d.toordinal())
        k = np.minimum(np.minimum(pois(0.45 * inten, chat), 3), conv)
        rows, ent = _pick(g, k, existing)
        k_row = np.bincount(rows, minlength=n)[rows]
        r = g.random(rows.size) + 0.2
        share = r / np.bincount(rows, weights=r, minlength=n)[rows] * 0.9 if rows.size else r
        pconv = 1 + g.binomial((conv[rows] - k_row) // np.maximum(k_row, 1), 0.5)
        pmsg = pconv + np.floor((msg[rows] - conv[rows]) * share).astype(np.int64)
        pthink = (pmsg * thinking[rows]) // np.maximum(msg[rows], 1)
        events["projects"] = ev(rows, ent, CHAT, -1, messages=pmsg, conversations=pconv, thinking=pthink)
        c["chat_metrics.distinct_projects_used_count"] = np.bincount(rows, minlength=n).astype(np.int64)
        made = pj.extra["created_day"] == d.toordinal()
        creators = pos[pj.extra["creator"][made]]
        c["chat_metrics.distinct_projects_created_count"] = np.bincount(
            creators[creators >= 0], minlength=n
        ).astype(np.int64)

        # skills, with estimated overage spend (heavy users only) and attributed list price (not chat)
        sk = self.skills
        heavy = inten > 1.5
        keep = 1.0 - float(org.discount)

        def build_skill(rows, ent, prod, app, units):
            inv = units + g.poisson(0.6 * units)
            value = (inv * sk.extra["price"][ent] * g.lognormal(0, 0.25, rows.size)).astype(np.int64)
            counted = not (prod == OFFICE and d < OFFICE_ATTRIBUTION_FROM)
            attributable = np.full(rows.size, prod != CHAT and counted)
            enabled = (prod == CHAT) & sk.extra["shareable"][ent] & (g.random(rows.size) < 0.06)
            return ev(
                rows,
                ent,
                prod,
                app,
                invocations=inv,
                units=units,
                list_mc=np.where(attributable, value, 0),
                attributable=attributable,
                over_mc=np.where(heavy[rows] & counted, (value * keep).astype(np.int64), 0),
                enabled=enabled,
            )

        events["skills"] = per_surface(
            sk, {CHAT: (0.3, 3), CODE: (0.45, 4), COWORK: (0.6, 4), OFFICE: (0.3, 2)}, 0.2, build_skill
        )

        # connectors, with the read/write/unclassified split once a surface is classified
        cn = self.connectors

        def build_conn(rows, ent, prod, app, units):
            calls = units + g.poisson(1.5 * units)
            read, write, uncl = _split_calls(g, calls, np.full(rows.size, d >= CLASSIFIED_FROM[prod]))
            return ev(
                rows,
                ent,
                prod,
                app,
                calls=calls,
                units=units,
                read=read,
                write=write,
                unclassified=uncl,
                auth=cn.extra["auth"][ent],
            )

        events["connectors"] = per_surface(
            cn, {CHAT: (0.5, 4), CODE: (0.5, 4), COWORK: (0.8, 4), OFFICE: (0.25, 2)}, 0.3, build_conn
        )

        # per-user counts derived from the skill and connector events
        derived = [
            ("skills", None, CHAT, -1, None, "chat_metrics.distinct_skills_used_count"),
            (
                "skills",
                "invocations",
                COWORK,
                -1,
                "cowork_metrics.skills_used_count",
                "cowork_metrics.distinct_skills_used_count",
            ),
            (
                "connectors",
                "calls",
                CHAT,
                -1,
                "chat_metrics.connectors_used_count",
                "chat_metrics.distinct_connectors_used_count",
            ),
            (
                "connectors",
                "calls",
                COWORK,
                -1,
                "cowork_metrics.connectors_used_count",
                "cowork_metrics.distinct_connectors_used_count",
            ),
        ]
        for i, app_name in enumerate(OFFICE_APPS):
            for kind, col, stem in (
                ("skills", "invocations", "skills"),
                ("connectors", "calls", "connectors"),
            ):
                derived.append(
                    (
                        kind,
                        col,
                        OFFICE,
                        i,
                        f"office_metrics.{app_name}.{stem}_used_count",
                        f"office_metrics.{app_name}.distinct_{stem}_used_count",
                    )
                )
        for kind, col, prod, app, total_path, distinct_path in derived:
            e = events[kind]
            sel = (e["prod"] == prod) & (e["app"] == app)
            p = pos[e["user"][sel]]
            c[distinct_path] = np.bincount(p, minlength=n).astype(np.int64)
            if total_path:
                c[total_path] = np.bincount(p, weights=e[col][sel], minlength=n).astype(np.int64)

        # plugins (Claude Code and Cowork), with installs
        pl = self.plugins
        plugin_parts = []
        for prod, mask, rate, cap in ((CODE, code, 0.35, 3), (COWORK, cowork, 0.3, 2)):
            k = np.minimum(np.minimum(pois(rate * inten, mask), cap), budgets[prod])
            rows, ent = _pick(g, k, pl.weight * pl.allowed[:, prod])
            units = _units(g, budgets[prod][rows], 0.5)
            plugin_parts.append(
                ev(
                    rows,
                    ent,
                    prod,
                    -1,
                    invocations=units + g.poisson(1.2 * units),
                    units=units,
                    installed=np.zeros(rows.size),
                )
            )
        installer = (code | cowork) & (g.random(n) < 0.04)
        iprod = np.where(code & (~cowork | (g.random(n) < 0.5)), CODE, COWORK)
        for prod in (CODE, COWORK):
            rows, ent = _pick(
                g, (installer & (iprod == prod)).astype(np.int64), pl.weight * pl.allowed[:, prod]
            )
            plugin_parts.append(
                ev(
                    rows,
                    ent,
                    prod,
                    -1,
                    invocations=np.zeros(rows.size),
                    units=np.zeros(rows.size),
                    installed=np.ones(rows.size),
                )
            )
        pe = _concat(plugin_parts)
        inv, m, keys = _group(pe, [("user", self.n_users), ("ent", len(pl)), ("prod", 4)])
        events["plugins"] = {
            "user": keys["user"],
            "day": np.full(m, d.toordinal(), dtype=np.int64),
            "ent": keys["ent"],
            "prod": keys["prod"],
            "app": np.full(m, -1, dtype=np.int64),
            "invocations": _bsum(inv, m, pe["invocations"]),
            "units": _bsum(inv, m, pe["units"]),
            "installed": (_bsum(inv, m, pe["installed"]) > 0).astype(np.int64),
        }

        # artifacts: one draw per artifact, aggregated per (user, product, type x shared)
        art_parts = []
        for prod, mask, rate in ((CHAT, chat, 0.3), (CODE, code, 0.25), (COWORK, cowork, 0.35)):
            if prod != CHAT and d < CODE_COWORK_ARTIFACTS_FROM:
                continue
            cnt = pois(rate * inten, mask)
            rows = np.repeat(np.arange(n), cnt)
            if prod == CHAT:
                cdf = np.cumsum(_ARTIFACT_CHAT_WEIGHTS) / sum(_ARTIFACT_CHAT_WEIGHTS)
                typ = np.minimum(
                    np.searchsorted(cdf, g.random(rows.size), side="right"), len(ARTIFACT_TYPES) - 1
                )
            else:
                typ = np.full(rows.size, _HTML)
            shared = g.random(rows.size) < 0.22
            published = shared & (g.random(rows.size) < 0.45)
            art_parts.append(
                ev(rows, typ * 2 + shared, prod, -1, created=np.ones(rows.size), published=published)
            )
        ae = _concat(art_parts)
        inv, m, keys = _group(ae, [("user", self.n_users), ("prod", 4), ("ent", 2 * len(ARTIFACT_TYPES))])
        events["artifacts"] = {
            "user": keys["user"],
            "day": np.full(m, d.toordinal(), dtype=np.int64),
            "ent": keys["ent"],
            "prod": keys["prod"],
            "app": np.full(m, -1, dtype=np.int64),
            "created": _bsum(inv, m, ae["created"]),
            "published": _bsum(inv, m, ae["published"]),
        }
        ea = events["artifacts"]
        for prod, path in (
            (CHAT, "chat_metrics.distinct_artifacts_created_count"),
            (CODE, "claude_code_metrics.core_metrics.artifacts_created_count"),
            (COWORK, "cowork_metrics.artifacts_created_count"),
        ):
            sel = ea["prod"] == prod
            c[path] = np.bincount(pos[ea["user"][sel]], weights=ea["created"][sel], minlength=n).astype(
                np.int64
            )

        table = {"user": users, "day": np.full(n, d.toordinal(), dtype=np.int64)}
        for p in USER_COLUMNS:
            table[p] = np.asarray(c[p], dtype=np.int64)
        return DayData(d, table, events)

    # -- queries ------------------------------------------------------------------------------------------
    def events(self, kind: str, days: Sequence[date]) -> dict[str, np.ndarray]:
        return _concat([self.day(d).events[kind] for d in days])

    def user_table(self, days: Sequence[date]) -> dict[str, np.ndarray]:
        return _concat([self.day(d).users for d in days])

    def users_query(self, days: Sequence[date], scope: Scope, projects: np.ndarray | None) -> Table:
        """Rows of /analytics/users: per user (or per RBAC group with ``group_by``), over ``days``."""
        single = len(days) == 1
        if projects is not None:
            base = self._project_user_rows(days, scope, projects)
        else:
            t = self.user_table(days)
            if scope.users is not None:
                t = _take(t, scope.users[t["user"]])
            if single:
                base = Table(dict(t))
            else:
                inv, m, keys = _group(t, [("user", self.n_users)])
                cols = {
                    "user": keys.get("user", np.zeros(0, dtype=np.int64)),
                    "day": np.full(m, np.iinfo(np.int64).min),
                }
                np.maximum.at(
                    cols["day"], inv, t["day"]
                )  # last_activity_date: the latest active day in the window
                for p in USER_COLUMNS:
                    cols[p] = _bsum(inv, m, t[p])
                base = Table(cols)
                # distinct entities over the window, exactly, from the events
                by_kind = {kind: self.events(kind, days) for kind in ("projects", "skills", "connectors")}
                for path, (kind, prod, app) in _ENTITY_DISTINCT.items():
                    e = by_kind[kind]
                    sel = np.ones(len(e["user"]), dtype=bool)
                    if prod is not None:
                        sel &= e["prod"] == prod
                    if app is not None:
                        sel &= e["app"] == app
                    pairs = np.unique(e["user"][sel] * self.n_entities(kind) + e["ent"][sel])
                    per_user = np.bincount(pairs // self.n_entities(kind), minlength=self.n_users)
                    base.cols[path] = per_user[base.cols["user"]].astype(np.int64)
                for path in _UNTRACKED_DISTINCT:
                    base.nulls[path] = np.ones(base.n, dtype=bool)
        if "rbac_group_id" not in scope.group_by:
            base.cols["grp"] = np.full(base.n, -1, dtype=np.int64)
            return base
        # one row per RBAC group: a user counts in every group they hold
        rows, grp = np.nonzero(self.rbac[base.cols["user"]])
        if scope.groups is not None:
            keep = scope.groups[grp]
            rows, grp = rows[keep], grp[keep]
        ex = {k: v[rows] for k, v in base.cols.items()}
        ex["grp"] = grp.astype(np.int64)
        inv, m, keys = _group(ex, [("grp", len(self.group_ids))])
        cols = {
            "grp": keys.get("grp", np.zeros(0, dtype=np.int64)),
            "user": np.full(m, -1, dtype=np.int64),
            "day": np.full(m, np.iinfo(np.int64).min),
            "distinct_user_count": _count(inv, m),
        }
        np.maximum.at(cols["day"], inv, ex["day"])
        nulls = {}
        for p in USER_COLUMNS:
            cols[p] = _bsum(inv, m, ex[p])
        for p in (*_ENTITY_DISTINCT, *_UNTRACKED_DISTINCT):
            nulls[p] = np.ones(m, dtype=bool)
        return Table(cols, nulls)

    def _project_user_rows(self, days: Sequence[date], scope: Scope, projects: np.ndarray) -> Table:
        """Per-user rows limited to chat activity in the selected projects (``filter[]=project_id``)."""
        e = self.events("projects", days)
        sel = projects[e["ent"]]
        if scope.users is not None:
            sel &= scope.users[e["user"]]
        e = _take(e, sel)
        inv, m, keys = _group(e, [("user", self.n_users)])
        cols = {
            "user": keys.get("user", np.zeros(0, dtype=np.int64)),
            "day": np.full(m, np.iinfo(np.int64).min),
        }
        np.maximum.at(cols["day"], inv, e["day"])
        for p in USER_COLUMNS:
            cols[p] = np.zeros(m, dtype=np.int64)
        cols["chat_metrics.message_count"] = _bsum(inv, m, e["messages"])
        cols["chat_metrics.thinking_message_count"] = _bsum(inv, m, e["thinking"])
        cols["chat_metrics.distinct_conversation_count"] = _bsum(inv, m, e["conversations"])
        cols["chat_metrics.distinct_projects_used_count"] = _distinct(inv, m, e["ent"], len(self.projects))
        return Table(cols)

    def entity_query(self, kind: str, days: Sequence[date], scope: Scope, *, start: date) -> Table:
        """Rows of /projects, /skills, /connectors, /plugins or /artifacts over ``days``."""
        e = self.events(kind, days)
        sel = np.ones(len(e["user"]), dtype=bool)
        if scope.users is not None:
            sel &= scope.users[e["user"]]
        if scope.entities is not None:
            sel &= scope.entities[e["ent"]]
        if scope.products is not None:
            sel &= np.isin(e["prod"], scope.products)
        e = _take(e, sel)
        if "rbac_group_id" in scope.group_by:
            rows, grp = np.nonzero(self.rbac[e["user"]])
            if scope.groups is not None:
                keep = scope.groups[grp]
                rows, grp = rows[keep], grp[keep]
            e = {k: v[rows] for k, v in e.items()}
            e["grp"] = grp.astype(np.int64)
        keys = [("ent", self.n_entities(kind))]
        if "product" in scope.group_by:
            keys.append(("prod", 4))
        if "user_id" in scope.group_by:
            keys.append(("user", self.n_users))
        if "rbac_group_id" in scope.group_by:
            keys.append(("grp", len(self.group_ids)))
        inv, m, kc = _group(e, keys)
        cols = {
            "ent": kc.get("ent", np.zeros(0, dtype=np.int64)),
            "prod": kc.get("prod", np.full(m, -1, dtype=np.int64)),
            "user": kc.get("user", np.full(m, -1, dtype=np.int64)),
            "grp": kc.get("grp", np.full(m, -1, dtype=np.int64)),
        }
        users = e["user"]
        nulls: dict[str, np.ndarray] = {}
        U = self.n_users
        cols["distinct_user_count"] = _distinct(inv, m, users, U)

        def units(prod: int, app: int = -1) -> np.ndarray:
            return _bsum(inv, m, e["units"] * ((e["prod"] == prod) & (e["app"] == app)))

        product_cut = "product" in scope.group_by or scope.products is not None
        user_cut = "user_id" in scope.group_by or "rbac_group_id" in scope.group_by or scope.has_user_scope
        if kind == "projects":
            cols["message_count"] = _bsum(inv, m, e["messages"])
            cols["distinct_conversation_count"] = _bsum(inv, m, e["conversations"])
        elif kind == "skills":
            cols["invocation_count"] = _bsum(inv, m, e["invocations"])
            cols["enable_count"] = _distinct(inv, m, users, U, e["enabled"] > 0)
            if len(days) > 1 or product_cut or user_cut:
                nulls["enable_count"] = np.ones(m, dtype=bool)
            cols["chat_metrics.distinct_conversation_skill_used_count"] = units(CHAT)
            cols["claude_code_metrics.distinct_session_skill_used_count"] = units(CODE)
            cols["cowork_metrics.distinct_session_skill_used_count"] = units(COWORK)
            for i, app in enumerate(OFFICE_APPS):
                cols[f"office_metrics.{app}.distinct_session_skill_used_count"] = units(OFFICE, i)
            cols["estimated_overage_spend"] = _bsum(inv, m, e["over_mc"])
            cols["attributed_list_price"] = _bsum(inv, m, e["list_mc"])
            attributable = _bsum(inv, m, e["attributable"]) > 0
            prods = cols["prod"] if "product" in scope.group_by else None
            only = scope.products[0] if scope.products is not None and len(scope.products) == 1 else None

            def cut_is(p: int) -> np.ndarray:
                if prods is not None:
                    return prods == p
                return np.full(m, only == p)

            office_early = cut_is(OFFICE) & (start < OFFICE_ATTRIBUTION_FROM)
            nulls["estimated_overage_spend"] = office_early
            nulls["attributed_list_price"] = office_early | cut_is(CHAT) | ~attributable
        elif kind == "connectors":
            cols["chat_metrics.distinct_conversation_connector_used_count"] = units(CHAT)
            cols["claude_code_metrics.distinct_session_connector_used_count"] = units(CODE)
            cols["cowork_metrics.distinct_session_connector_used_count"] = units(COWORK)
            for i, app in enumerate(OFFICE_APPS):
                cols[f"office_metrics.{app}.distinct_session_connector_used_count"] = units(OFFICE, i)
            for col, src in (
                ("read_call_count", "read"),
                ("write_call_count", "write"),
                ("unclassified_call_count", "unclassified"),
            ):
                cols[col] = _bsum(inv, m, e[src])
                nulls[col] = np.full(m, start < CALL_SPLIT_FROM)
            credentialed = _bsum(inv, m, e["auth"] != AUTH_NONE) > 0
            cols["managed_auth_distinct_user_count"] = _distinct(inv, m, users, U, e["auth"] == AUTH_MANAGED)
            cols["individual_auth_distinct_user_count"] = _distinct(
                inv, m, users, U, e["auth"] == AUTH_INDIVIDUAL
            )
            no_auth = (start < MANAGED_AUTH_FROM) | product_cut | ~credentialed
            nulls["managed_auth_distinct_user_count"] = no_auth
            nulls["individual_auth_distinct_user_count"] = no_auth
        elif kind == "plugins":
            cols["invocation_count"] = _bsum(inv, m, e["invocations"])
            cols["install_count"] = _distinct(inv, m, users, U, e["installed"] > 0)
            cols["claude_code_metrics.distinct_session_plugin_used_count"] = units(CODE)
            cols["cowork_metrics.distinct_session_plugin_used_count"] = units(COWORK)
        elif kind == "artifacts":
            cols["artifacts_created_count"] = _bsum(inv, m, e["created"])
            cols["published_artifacts_created_count"] = _bsum(inv, m, e["published"])
        return Table(cols, {k: v for k, v in nulls.items() if v.any()})

    # -- summaries ----------------------------------------------------------------------------------------
    @cached_property
    def _invite_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inv = self.org.invites
        ts = np.array([i.invited.timestamp() for i in inv])
        ex = np.array([i.expires.timestamp() for i in inv])
        acc = np.array([i.accepted.timestamp() if i.accepted else np.inf for i in inv])
        return ts, ex, acc

    def pending_invites(self, days: Sequence[date]) -> np.ndarray:
        """Invites pending at the end of each day (sent, neither accepted nor expired yet)."""
        ts, ex, acc = self._invite_times
        t = np.array([day_start(d + timedelta(days=1)).timestamp() for d in days])[:, None]
        return ((ts < t) & (t < ex) & (acc > t)).sum(axis=1)

    def summaries(self, start: date, end: date, users: np.ndarray | None = None) -> list[dict]:
        """One B1 summary per day of [start, end); ``users`` scopes to RBAC-group members (seat fields null)."""
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        window = [start - timedelta(days=29 - i) for i in range(29)] + days
        acts = [self.plan.day(d) for d in window]
        scope = np.ones(self.n_users, dtype=bool) if users is None else users

        def rolling(rows: list[np.ndarray]) -> dict[int, np.ndarray]:
            stack = np.stack(rows) & scope
            cum = np.zeros((stack.shape[0] + 1, stack.shape[1]), dtype=np.int32)
            np.cumsum(stack, axis=0, dtype=np.int32, out=cum[1:])
            out = {}
            for w in (1, 7, 30):
                hi = np.arange(29, len(window)) + 1
                out[w] = ((cum[hi] - cum[hi - w]) > 0).sum(axis=1)
            return out

        total = rolling([a.active for a in acts])
        per = {
            p: rolling([a.surfaces[s] for a in acts])
            for p, s in (
                ("cowork", "cowork"),
                ("chat", "chat"),
                ("claude_code", "claude_code"),
                ("claude_design", "claude_design"),
                ("office_agent", "office_agent"),
            )
        }
        scoped = users is not None
        seats = [int(a.member.sum()) for a in acts[29:]]
        pending = self.pending_invites(days)
        out = []
        for i, d in enumerate(days):
            dau, wau, mau = int(total[1][i]), int(total[7][i]), int(total[30][i])
            row: dict = {
                "starting_at": iso(day_start(d)),
                "ending_at": iso(day_start(d + timedelta(days=1))),
                "daily_active_user_count": dau,
                "weekly_active_user_count": wau,
                "monthly_active_user_count": mau,
                "assigned_seat_count": None if scoped else seats[i],
                "pending_invite_count": None if scoped else int(pending[i]),
                "daily_adoption_rate": None if scoped else _rate(dau, seats[i]),
                "weekly_adoption_rate": None if scoped else _rate(wau, seats[i]),
                "monthly_adoption_rate": None if scoped else _rate(mau, seats[i]),
            }
            for p in ("cowork", "chat", "claude_code", "claude_design", "office_agent"):
                row[f"{p}_daily_active_user_count"] = int(per[p][1][i])
                row[f"{p}_weekly_active_user_count"] = int(per[p][7][i])
                row[f"{p}_monthly_active_user_count"] = int(per[p][30][i])
            for w in ("daily", "weekly", "monthly"):
                row[f"science_{w}_active_user_count"] = 0
            row["science_entitled_user_count"] = None if scoped else 0
            for w in ("daily", "weekly", "monthly"):
                row[f"claude_tag_{w}_active_user_count"] = None if scoped else 0
            out.append(row)
        return out


def _rate(count: int, seats: int) -> float | None:
    return round(count / seats * 100, 2) if seats else None


def _rank(values: Sequence[str]) -> np.ndarray:
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank


def money(microcents: int) -> str:
    """Micro-cents as the API's decimal string in cents."""
    return format_cents(int(microcents))


register_data("engagement", EngagementData)


def engagement(sim, org: Organization) -> EngagementData:
    """The organization's engagement data, bound to the simulator's shared activity plan."""
    eng: EngagementData = sim.data(org, "engagement")
    if eng.plan is None:
        eng.plan = sim.data(org, "activity")
    return eng


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


# -- ground truth -----------------------------------------------------------------------------------------
@provider("enterprise_summaries")
def _truth_summaries(sim, org, start: date, end: date, params: dict):
    eng = engagement(sim, org)
    return {
        "organization_id": org.analytics_id,
        "days": [
            {"date": d.isoformat(), **row}
            for d, row in zip(day_range(start, end), eng.summaries(start, end), strict=True)
        ],
    }


@provider("enterprise_user_activity")
def _truth_user_activity(sim, org, start: date, end: date, params: dict):
    eng = engagement(sim, org)
    out = []
    for d in day_range(start, end):
        t = eng.day(d).users
        out.append(
            {
                "date": d.isoformat(),
                "active_user_count": int(t["user"].size),
                "chat_message_count": int(t["chat_metrics.message_count"].sum()),
                "chat_conversation_count": int(t["chat_metrics.distinct_conversation_count"].sum()),
                "claude_code_session_count": int(
                    t["claude_code_metrics.core_metrics.distinct_session_count"].sum()
                ),
                "claude_code_commit_count": int(t["claude_code_metrics.core_metrics.commit_count"].sum()),
                "claude_code_pull_request_count": int(
                    t["claude_code_metrics.core_metrics.pull_request_count"].sum()
                ),
                "claude_code_lines_added": int(
                    t["claude_code_metrics.core_metrics.lines_of_code.added_count"].sum()
                ),
                "cowork_message_count": int(t["cowork_metrics.message_count"].sum()),
                "web_search_count": int(t["web_search_count"].sum()),
            }
        )
    return {"organization_id": org.analytics_id, "days": out}


#: The ``group_by[]`` the client sends on each per-day activity endpoint (``/users`` is read ungrouped). It
#: mirrors ``DAILY_ENDPOINTS`` of ``claude_assets/ingest/enterprise_engagement.py``: keep the two in step,
#: or ``min_requests_engagement`` no longer counts the pages of the responses the client reads.
CLIENT_GROUP_BY: dict[str, tuple[str, ...]] = {
    "users": (),
    "projects": ("user_id",),
    "skills": ("product", "user_id"),
    "connectors": ("user_id",),
    "plugins": ("product", "user_id"),
    "artifacts": ("product", "user_id"),
}
#: The client's page size (the largest ``limit`` of the engagement endpoints).
CLIENT_PAGE_LIMIT = 1000
#: ``/summaries`` returns at most this many days in its single page (its largest date range).
SUMMARY_MAX_DAYS = 366


def client_rows(eng: EngagementData, kind: str, d: date) -> int:
    """Rows of the client's single-day (``date=d``) query of ``kind``, unfiltered, as the route builds them."""
    scope = Scope(group_by=CLIENT_GROUP_BY[kind])
    if kind == "users":
        return eng.users_query([d], scope, None).n
    return eng.entity_query(kind, [d], scope, start=d).n


@provider("min_requests_engagement")
def _truth_min_requests(sim, org, start: date, end: date, params: dict):
    """Fewest requests of the client's pull of [start, end): the pages of the responses it reads.

    ``summaries``: one ranged request per 366 days (one page each). Every other endpoint: one
    ``date``-mode request per day with the client's ``group_by[]`` (``CLIENT_GROUP_BY``) at
    ``limit=1000``, i.e. ``max(1, ceil(rows / 1000))`` pages per day, ``rows`` being what the route
    returns for that query: active users on ``/users``; distinct (entity, user) on projects and
    connectors, and (entity, product, user) on skills, plugins and artifacts.
    """
    eng = engagement(sim, org)
    days = day_range(start, end)
    counts = {"summaries": math.ceil(len(days) / SUMMARY_MAX_DAYS)}
    counts |= {kind: 0 for kind in ("users", "projects", "skills", "connectors", "artifacts", "plugins")}
    for d in days:
        for kind in CLIENT_GROUP_BY:
            counts[kind] += max(1, math.ceil(client_rows(eng, kind, d) / CLIENT_PAGE_LIMIT))
    counts["total"] = sum(counts.values())
    return counts

"""The organization's catalogues of projects, skills, connectors and plugins (names in sort order)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from simulator.clock import day_start, iso
from simulator.generators.engagement.vocab import (
    ARTIFACT_TYPES,
    AUTH_INDIVIDUAL,
    AUTH_MANAGED,
    AUTH_NONE,
    CHAT,
    CODE,
    COWORK,
    OFFICE,
)
from simulator.ids import make_id, np_rng, rng

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


class Catalogues:
    """Builds the catalogues (mixed into :class:`EngagementData`)."""

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

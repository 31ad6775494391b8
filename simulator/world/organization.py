"""One organization of a company: identity, people, invites and Console inventory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from simulator.catalog import MODELS, Model
from simulator.clock import day_start
from simulator.ids import make_id, make_key, make_uuid, rng
from simulator.world.entities import ApiKey, Invite, User, Workspace
from simulator.world.names import FIRST, LAST, WORKSPACE_NAMES
from simulator.world.profiles import HORIZON_END, JOINS_UNTIL, CompanySpec


def _spread_day(r, start: date, end: date) -> date:
    return start + timedelta(days=r.randrange(max(1, (end - start).days)))


@dataclass
class Organization:
    """One organization: a Console org (Admin key) or an Enterprise org (Analytics key)."""

    world_seed: int
    company: CompanySpec
    kind: str  # console | enterprise
    rate_limit: int
    #: HIPAA readiness enabled: the Usage and Cost Analytics API refuses it (400 organization_not_eligible)
    hipaa_ready: bool = False
    slug: str = field(init=False)

    def __post_init__(self) -> None:
        self.slug = f"{self.company.slug}-{self.kind}"

    # -- identity -------------------------------------------------------------------------
    @cached_property
    def uuid(self) -> str:
        return make_uuid(self.world_seed, self.slug)

    @cached_property
    def analytics_id(self) -> str:
        return make_id("org", self.world_seed, self.slug)

    @property
    def name(self) -> str:
        return self.company.name if self.kind == "console" else f"{self.company.name} (Enterprise)"

    @cached_property
    def api_key(self) -> str:
        return make_key("admin" if self.kind == "console" else "analytics", self.world_seed, self.slug)

    @property
    def key_type(self) -> str:
        """The type of ``api_key``, the organization's main key."""
        return "admin" if self.kind == "console" else "analytics"

    @cached_property
    def keys(self) -> dict[str, str]:
        """Every key that opens the organization, by type. A Console organization has, besides its Admin
        key, a personal API key (of its first member) and a service-account API key, neither scoped to a
        workspace, which the usage and cost reports accept (reference B13), and a workspace-scoped key,
        which no organization endpoint accepts. An Enterprise organization has its
        Analytics key."""
        if self.kind != "console":
            return {self.key_type: self.api_key}
        other = ("personal", "service_account", "workspace")
        return {self.key_type: self.api_key} | {t: make_key(t, self.world_seed, self.slug) for t in other}

    @cached_property
    def created(self) -> date:
        return date(2025, 9, 1) if self.kind == "console" else date(2025, 11, 1)

    @cached_property
    def discount(self) -> Decimal:
        """Negotiated discount applied to list price (Enterprise: amount vs list_amount)."""
        r = rng(self.world_seed, self.slug, "discount")
        return (
            Decimal(r.choice(("0.05", "0.10", "0.15", "0.20")))
            if self.kind == "enterprise"
            else Decimal(r.choice(("0", "0.05", "0.08")))
        )

    @property
    def size(self):
        return self.company.console if self.kind == "console" else self.company.enterprise

    @cached_property
    def models(self) -> tuple[Model, ...]:
        return MODELS[: self.size.models]

    def models_on(self, d: date) -> tuple[Model, ...]:
        return tuple(m for m in self.models if m.available_from <= d) or self.models[:1]

    # -- people -----------------------------------------------------------------------------
    @cached_property
    def users(self) -> tuple[User, ...]:
        """Every user the organization ever has (current, future and removed), by person index."""
        if self.kind == "console":
            count = self.company.console.users
            roles = (("developer", 50), ("claude_code_user", 20), ("user", 15), ("billing", 5), ("admin", 10))
        else:
            count = round(self.company.enterprise.seats * 1.12)
            roles = (("user", 95), ("membership_admin", 3), ("owner", 2))
        out = []
        seen: dict[str, int] = {}
        for i in range(count):
            r = rng(self.world_seed, self.company.slug, "person", i)
            first, last = r.choice(FIRST), r.choice(LAST)
            local = f"{first}.{last}"
            seen[local] = seen.get(local, 0) + 1
            if seen[local] > 1:
                local = f"{local}{seen[local]}"
            ro = rng(self.world_seed, self.slug, "user", i)
            if i == 0:
                role = "primary_owner" if self.kind == "enterprise" else "admin"
            else:
                role = ro.choices([x for x, _ in roles], [w for _, w in roles])[0]
            founding = ro.random() < 0.6 or i == 0
            added = self.created if founding else _spread_day(ro, self.created, JOINS_UNTIL)
            removed = None
            if i > 0 and ro.random() < 0.09:
                removed = added + timedelta(days=ro.randrange(20, 300))
            out.append(
                User(
                    id=make_id("user", self.world_seed, self.slug, i),
                    person=i,
                    email=f"{local}@{self.company.domain}",
                    name=f"{first.title()} {last.title()}",
                    role=role,
                    added=added,
                    removed=removed,
                )
            )
        return tuple(out)

    def users_on(self, d: date) -> list[User]:
        return [u for u in self.users if u.member_on(d)]

    @cached_property
    def invites(self) -> tuple[Invite, ...]:
        out = []
        for u in self.users:
            if u.added > self.created:  # joined later: joined through an accepted invite
                accepted = day_start(u.added) + timedelta(hours=9)
                invited = accepted - timedelta(days=1 + u.person % 5, hours=3)
                out.append(
                    Invite(
                        make_id("invite", self.world_seed, self.slug, "u", u.person),
                        u.email,
                        "user" if u.role in ("primary_owner", "owner") else u.role,
                        invited,
                        invited + timedelta(days=21),
                        accepted,
                    )
                )
        # invites nobody accepts arrive as a steady stream, so some are pending at any instant
        r = rng(self.world_seed, self.slug, "invites")
        every = max(0.1, 150 / max(1, len(self.users)))  # days between such invites
        t, j = day_start(self.created), 0
        while t.date() < HORIZON_END:
            t += timedelta(days=every * r.uniform(0.3, 1.7))
            out.append(
                Invite(
                    make_id("invite", self.world_seed, self.slug, "n", j),
                    f"guest{j}@{r.choice(('partner.example', 'contractor.example'))}",
                    "user" if self.kind == "enterprise" else r.choice(("developer", "user")),
                    t,
                    t + timedelta(days=21),
                    None,
                )
            )
            j += 1
        return tuple(sorted(out, key=lambda i: i.invited))

    # -- Console inventory ----------------------------------------------------------------------
    @cached_property
    def default_workspace(self) -> Workspace:
        return Workspace(
            make_id("wrkspc", self.world_seed, self.slug, "default"),
            "Default",
            self.created,
            None,
            "global",
            "#6C5BB9",
            {},
            is_default=True,
        )

    @cached_property
    def workspaces(self) -> tuple[Workspace, ...]:
        """Named workspaces (not the default one), archived ones included."""
        if self.kind != "console":
            return ()
        out = []
        for i in range(self.company.console.workspaces):
            r = rng(self.world_seed, self.slug, "workspace", i)
            base = WORKSPACE_NAMES[i % len(WORKSPACE_NAMES)]
            name = base if i < len(WORKSPACE_NAMES) else f"{base} {i // len(WORKSPACE_NAMES) + 1}"
            created = self.created + timedelta(days=0 if i < 3 else r.randrange(0, 240))
            archived = (
                created + timedelta(days=r.randrange(30, 200)) if (i >= 2 and r.random() < 0.12) else None
            )
            out.append(
                Workspace(
                    make_id("wrkspc", self.world_seed, self.slug, i),
                    name,
                    created,
                    archived,
                    "us" if r.random() < 0.2 else "global",
                    f"#{r.randrange(0x1000000):06X}",
                    {"team": name.split()[0].lower()},
                )
            )
        return tuple(out)

    @cached_property
    def service_accounts(self) -> tuple[str, ...]:
        return (
            tuple(make_id("svac", self.world_seed, self.slug, i) for i in range(2))
            if self.kind == "console"
            else ()
        )

    @cached_property
    def api_keys(self) -> tuple[ApiKey, ...]:
        if self.kind != "console":
            return ()
        developers = [u for u in self.users if u.role in ("developer", "admin")] or list(self.users)
        spaces = (self.default_workspace, *self.workspaces)
        out = []
        for i in range(self.company.console.api_keys):
            r = rng(self.world_seed, self.slug, "apikey", i)
            ws = spaces[0] if r.random() < 0.2 else r.choice(spaces[1:] or spaces)
            created = max(ws.created, self.created + timedelta(days=r.randrange(0, 300) if i >= 3 else 0))
            owner = r.choice(developers)
            disabled, status, expires = None, "inactive", None
            roll = r.random()
            if roll < 0.08:
                disabled, status = created + timedelta(days=r.randrange(20, 200)), "inactive"
            elif roll < 0.12:
                disabled, status = created + timedelta(days=r.randrange(20, 200)), "archived"
            elif roll < 0.15:
                expires = created + timedelta(days=90)
                disabled, status = expires, "expired"
            pool = [m.id for m in self.models]
            k = min(len(pool), r.choice((1, 1, 2, 2, 3)))
            models = tuple(r.sample(pool, k))
            weights = tuple(sorted((r.random() + 0.1 for _ in models), reverse=True))
            out.append(
                ApiKey(
                    id=make_id("apikey", self.world_seed, self.slug, i),
                    name=f"{ws.name.lower().replace(' ', '-')}-{r.choice(('prod', 'staging', 'etl', 'bot', 'eval', 'ci'))}-{i}",
                    workspace=ws,
                    created=created,
                    created_by=None if i == 1 else owner.id,
                    disabled=disabled,
                    disabled_status=status,
                    expires=expires,
                    hint=f"sk-ant-api03-{make_id('h', self.slug, i)[5:8]}...{make_id('t', self.slug, i)[5:9]}AA",
                    models=models,
                    weights=weights,
                    scale=r.lognormvariate(0, 0.9),
                    batch_share=r.choice((0, 0, 0, 0.3, 0.6)),
                    priority_share=r.choice((0,) * 8 + (0.4,)),
                    long_context_share=r.choice((0, 0, 0, 0.15)),
                    fast_share=r.choice((0,) * 6 + (0.3,)),
                    web_search=r.random() < 0.25,
                )
            )
        return tuple(out)

    @cached_property
    def workspace_members(self) -> dict[str, tuple[tuple[User, str], ...]]:
        """Members and workspace roles per named workspace."""
        out = {}
        people = [u for u in self.users if u.role in ("developer", "admin", "claude_code_user", "user")]
        for ws in self.workspaces:
            r = rng(self.world_seed, self.slug, "members", ws.id)
            chosen = r.sample(people, min(len(people), max(2, len(people) // 4)))
            roles = []
            for u in sorted(chosen, key=lambda u: u.id):
                role = (
                    "workspace_admin"
                    if u.role == "admin"
                    else r.choice(
                        (
                            "workspace_developer",
                            "workspace_developer",
                            "workspace_user",
                            "workspace_restricted_developer",
                            "workspace_billing",
                        )
                    )
                )
                roles.append((u, role))
            out[ws.id] = tuple(roles)
        return out

    def workspace_by_id(self, wid: str) -> Workspace | None:
        return next((w for w in (self.default_workspace, *self.workspaces) if w.id == wid), None)

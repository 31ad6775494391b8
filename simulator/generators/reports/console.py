"""The beta usage and cost reports of a Claude Platform (Console) organization, read from the Console generator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property

import numpy as np

from simulator.catalog import SERVICE_TIERS
from simulator.generators.cache import ResultCache
from simulator.generators.reports.codes import CONTEXT_WINDOWS, GEOS, MODEL_IDS, SPEEDS, epoch
from simulator.generators.reports.console_slots import (
    ACTOR_TYPES,
    CONSOLE_COLS,
    CONSOLE_PRODUCTS,
    ConsoleSlots,
)
from simulator.generators.reports.frames import Frame
from simulator.world.organization import Organization

# ---------------------------------------------------------------------------------------------
# Claude Platform (Console) organizations on the beta /analytics/usage and /analytics/cost
#
# An Admin key may call the beta endpoints; they then report the Console organization's own API
# usage, read from the Console generator (simulator.generators.console). Money is billed per daily record
# and token type exactly as the Console cost report bills it (so whole days agree to the micro-cent
# with /v1/organizations/cost_report), then allocated to hours and minutes in proportion to the
# tokens, with the integer remainder on the busiest slot.


class ConsoleReports(ConsoleSlots):
    """Beta usage/cost rows of a Console organization (``sim.data(org, "console_reports")``)."""

    def __init__(self, org: Organization, data=None) -> None:
        self.org = org
        self.data = data
        self._results = ResultCache(24)

    def cached(self, key: tuple, compute: Callable[[], object]):
        return self._results.get(key, compute)

    @cached_property
    def actors(self) -> tuple[tuple[str, str], ...]:
        """(actor type, id) of every identity: users, then service accounts, then API keys."""
        return (
            *(("user_actor", u.id) for u in self.org.users),
            *(("service_account_actor", s) for s in self.org.service_accounts),
            *(("api_actor", k.id) for k in self.org.api_keys),
        )

    @cached_property
    def actor_index(self) -> dict[str, int]:
        return {a[1]: i for i, a in enumerate(self.actors)}

    @cached_property
    def workspaces(self) -> tuple[str, ...]:
        return (self.org.default_workspace.id, *(w.id for w in self.org.workspaces))

    @cached_property
    def workspace_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.workspaces)}

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.org.api_keys)

    @cached_property
    def key_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}

    @cached_property
    def removed_ordinal(self) -> np.ndarray:
        users = [u.removed.toordinal() if u.removed else 10**9 for u in self.org.users]
        return np.array(users + [10**9] * (len(self.actors) - len(users)), dtype=np.int64)

    # -- frames --------------------------------------------------------------------------------------
    def frame(
        self, t0: datetime, t1: datetime, refreshed: datetime, filters: dict, *, minutes: bool
    ) -> Frame:
        """Rows of [t0, t1) in whole hours (or minutes) that ended by ``refreshed``, filtered."""
        a, b, cutoff = int(t0.timestamp()), int(t1.timestamp()), int(refreshed.timestamp())
        chunks = []
        d = t0.astimezone(UTC).date()
        while epoch(d) < b and not filters.get("nothing"):
            base = epoch(d)
            parts = []
            if minutes:
                for h in range(24):
                    if base + 3600 * h + 3600 > a and base + 3600 * h < b:
                        m = self.minutes(d, h)
                        parts.append((m, base + 3600 * h + m["slot"] * 60, 60))
            else:
                h = self.hours(d)
                parts.append((h, base + h["slot"] * 3600, 3600))
            for arr, sec, width in parts:
                keep = (sec >= a) & (sec < b) & (sec + width <= cutoff)
                for col, allowed in filters.items():
                    if col != "nothing" and allowed is not None:
                        keep &= np.isin(
                            arr["codes"][:, CONSOLE_COLS.index(col)],
                            np.fromiter(allowed, dtype=np.int64, count=len(allowed)),
                        )
                idx = np.flatnonzero(keep)
                chunks.append((arr, sec, idx))
            d += timedelta(days=1)
        codes = (
            np.concatenate([c[0]["codes"][c[2]] for c in chunks]) if chunks else np.zeros((0, 10), np.int64)
        )
        n = len(codes)
        minus = np.full(n, -1, dtype=np.int64)

        def cat(key, shape):
            return np.concatenate([c[0][key][c[2]] for c in chunks]) if chunks else np.zeros(shape, np.int64)

        col = {name: codes[:, i] for i, name in enumerate(CONSOLE_COLS)}
        return Frame(
            sec=np.concatenate([c[1][c[2]] for c in chunks]) if chunks else np.zeros(0, np.int64),
            user=minus,
            product=col["product"],
            model=col["model"],
            cw=col["cw"],
            geo=col["geo"],
            speed=col["speed"],
            channel=minus,
            tag_cat=minus,
            tag_user=minus,
            tokens=cat("tokens", (0, 5)),
            requests=np.zeros(n, dtype=np.int64),
            searches=cat("searches", (0,)),
            lst=cat("lst", (0, 7)),
            amt=cat("amt", (0, 7)),
            extra={
                "actor": col["actor"],
                "actor_type": col["actor_type"],
                "api_key_id": col["api_key_id"],
                "workspace_id": col["workspace_id"],
                "service_tier": col["service_tier"],
            },
        )

    def label(self, name: str, code: int, today: int):
        if name == "organization_id":
            return self.org.uuid
        if code < 0:
            return None
        if name == "actor":
            kind, ident = self.actors[code]
            if kind == "user_actor":
                user = self.org.users[code]
                deleted = bool(self.removed_ordinal[code] <= today)
                email = None if deleted else user.email
                return {
                    "type": kind,
                    "user_id": ident,
                    "email_address": email,  # the beta reports (B12) document only email_address
                    "name": "Deleted User" if deleted else user.name,
                    "deleted": deleted,
                }
            return {
                "type": kind,
                ("service_account_id" if kind == "service_account_actor" else "api_key_id"): ident,
            }
        table = {
            "actor_type": ACTOR_TYPES,
            "api_key_id": self.keys,
            "workspace_id": self.workspaces,
            "service_tier": SERVICE_TIERS,
            "product": CONSOLE_PRODUCTS,
            "model": MODEL_IDS,
            "context_window": CONTEXT_WINDOWS,
            "inference_geo": GEOS,
            "speed": SPEEDS,
        }
        return table[name][code] if name in table else None


def console_reports_for(sim, org: Organization) -> ConsoleReports:
    cr = sim.data(org, "console_reports")
    if cr.data is None:
        cr.data = sim.data(org, "console")
    return cr

"""Engagement queries: the rows of /analytics/users and of the entity endpoints, over a window of days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np

from simulator.generators.engagement import revisions
from simulator.generators.engagement.arrays import (
    Scope,
    Table,
    bincount_sum,
    concat,
    distinct_count,
    group_count,
    group_rows,
    take_rows,
)
from simulator.generators.engagement.vocab import (
    AUTH_INDIVIDUAL,
    AUTH_MANAGED,
    AUTH_NONE,
    CALL_SPLIT_FROM,
    CHAT,
    CODE,
    COWORK,
    ENTITY_DISTINCT,
    MANAGED_AUTH_FROM,
    OFFICE,
    OFFICE_APPS,
    OFFICE_ATTRIBUTION_FROM,
    UNTRACKED_DISTINCT,
    USER_COLUMNS,
)


class Queries:
    """Answers user and entity queries (mixed into :class:`EngagementData`)."""

    # -- queries ------------------------------------------------------------------------------------------
    def events(self, kind: str, days: Sequence[date]) -> dict[str, np.ndarray]:
        return concat([self.day(d).events[kind] for d in days])

    def user_table(self, days: Sequence[date], now: datetime | None = None) -> dict[str, np.ndarray]:
        """Per-user rows of ``days`` as the API shows them at ``now`` (None: the final values; ``revisions``)."""
        return concat(
            [revisions.as_of(self.day(d).users, d, now, self.org.world_seed, self.org.slug) for d in days]
        )

    def users_query(
        self, days: Sequence[date], scope: Scope, projects: np.ndarray | None, now: datetime | None = None
    ) -> Table:
        """Rows of /analytics/users: per user (or per RBAC group with ``group_by``), over ``days``, as the
        API shows them at ``now`` (None: the final values)."""
        single = len(days) == 1
        if projects is not None:
            base = self._project_user_rows(days, scope, projects)
        else:
            t = self.user_table(days, now)
            if scope.users is not None:
                t = take_rows(t, scope.users[t["user"]])
            if single:
                base = Table(dict(t))
            else:
                inv, m, keys = group_rows(t, [("user", self.n_users)])
                cols = {
                    "user": keys.get("user", np.zeros(0, dtype=np.int64)),
                    "day": np.full(m, np.iinfo(np.int64).min),
                }
                np.maximum.at(
                    cols["day"], inv, t["day"]
                )  # last_activity_date: the latest active day in the window
                for p in USER_COLUMNS:
                    cols[p] = bincount_sum(inv, m, t[p])
                base = Table(cols)
                # distinct entities over the window, exactly, from the events
                by_kind = {kind: self.events(kind, days) for kind in ("projects", "skills", "connectors")}
                for path, (kind, prod, app) in ENTITY_DISTINCT.items():
                    e = by_kind[kind]
                    sel = np.ones(len(e["user"]), dtype=bool)
                    if prod is not None:
                        sel &= e["prod"] == prod
                    if app is not None:
                        sel &= e["app"] == app
                    pairs = np.unique(e["user"][sel] * self.n_entities(kind) + e["ent"][sel])
                    per_user = np.bincount(pairs // self.n_entities(kind), minlength=self.n_users)
                    base.cols[path] = per_user[base.cols["user"]].astype(np.int64)
                for path in UNTRACKED_DISTINCT:
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
        inv, m, keys = group_rows(ex, [("grp", len(self.group_ids))])
        cols = {
            "grp": keys.get("grp", np.zeros(0, dtype=np.int64)),
            "user": np.full(m, -1, dtype=np.int64),
            "day": np.full(m, np.iinfo(np.int64).min),
            "distinct_user_count": group_count(inv, m),
        }
        np.maximum.at(cols["day"], inv, ex["day"])
        nulls = {}
        for p in USER_COLUMNS:
            cols[p] = bincount_sum(inv, m, ex[p])
        for p in (*ENTITY_DISTINCT, *UNTRACKED_DISTINCT):
            nulls[p] = np.ones(m, dtype=bool)
        return Table(cols, nulls)

    def _project_user_rows(self, days: Sequence[date], scope: Scope, projects: np.ndarray) -> Table:
        """Per-user rows limited to chat activity in the selected projects (``filter[]=project_id``)."""
        e = self.events("projects", days)
        sel = projects[e["ent"]]
        if scope.users is not None:
            sel &= scope.users[e["user"]]
        e = take_rows(e, sel)
        inv, m, keys = group_rows(e, [("user", self.n_users)])
        cols = {
            "user": keys.get("user", np.zeros(0, dtype=np.int64)),
            "day": np.full(m, np.iinfo(np.int64).min),
        }
        np.maximum.at(cols["day"], inv, e["day"])
        for p in USER_COLUMNS:
            cols[p] = np.zeros(m, dtype=np.int64)
        cols["chat_metrics.message_count"] = bincount_sum(inv, m, e["messages"])
        cols["chat_metrics.thinking_message_count"] = bincount_sum(inv, m, e["thinking"])
        cols["chat_metrics.distinct_conversation_count"] = bincount_sum(inv, m, e["conversations"])
        cols["chat_metrics.distinct_projects_used_count"] = distinct_count(
            inv, m, e["ent"], len(self.projects)
        )
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
        e = take_rows(e, sel)
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
        inv, m, kc = group_rows(e, keys)
        cols = {
            "ent": kc.get("ent", np.zeros(0, dtype=np.int64)),
            "prod": kc.get("prod", np.full(m, -1, dtype=np.int64)),
            "user": kc.get("user", np.full(m, -1, dtype=np.int64)),
            "grp": kc.get("grp", np.full(m, -1, dtype=np.int64)),
        }
        users = e["user"]
        nulls: dict[str, np.ndarray] = {}
        U = self.n_users
        cols["distinct_user_count"] = distinct_count(inv, m, users, U)

        def units(prod: int, app: int = -1) -> np.ndarray:
            return bincount_sum(inv, m, e["units"] * ((e["prod"] == prod) & (e["app"] == app)))

        product_cut = "product" in scope.group_by or scope.products is not None
        user_cut = "user_id" in scope.group_by or "rbac_group_id" in scope.group_by or scope.has_user_scope
        if kind == "projects":
            cols["message_count"] = bincount_sum(inv, m, e["messages"])
            cols["distinct_conversation_count"] = bincount_sum(inv, m, e["conversations"])
        elif kind == "skills":
            cols["invocation_count"] = bincount_sum(inv, m, e["invocations"])
            cols["enable_count"] = distinct_count(inv, m, users, U, e["enabled"] > 0)
            if len(days) > 1 or product_cut or user_cut:
                nulls["enable_count"] = np.ones(m, dtype=bool)
            cols["chat_metrics.distinct_conversation_skill_used_count"] = units(CHAT)
            cols["claude_code_metrics.distinct_session_skill_used_count"] = units(CODE)
            cols["cowork_metrics.distinct_session_skill_used_count"] = units(COWORK)
            for i, app in enumerate(OFFICE_APPS):
                cols[f"office_metrics.{app}.distinct_session_skill_used_count"] = units(OFFICE, i)
            cols["estimated_overage_spend"] = bincount_sum(inv, m, e["over_mc"])
            cols["attributed_list_price"] = bincount_sum(inv, m, e["list_mc"])
            attributable = bincount_sum(inv, m, e["attributable"]) > 0
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
                cols[col] = bincount_sum(inv, m, e[src])
                nulls[col] = np.full(m, start < CALL_SPLIT_FROM)
            credentialed = bincount_sum(inv, m, e["auth"] != AUTH_NONE) > 0
            cols["managed_auth_distinct_user_count"] = distinct_count(
                inv, m, users, U, e["auth"] == AUTH_MANAGED
            )
            cols["individual_auth_distinct_user_count"] = distinct_count(
                inv, m, users, U, e["auth"] == AUTH_INDIVIDUAL
            )
            no_auth = (start < MANAGED_AUTH_FROM) | product_cut | ~credentialed
            nulls["managed_auth_distinct_user_count"] = no_auth
            nulls["individual_auth_distinct_user_count"] = no_auth
        elif kind == "plugins":
            cols["invocation_count"] = bincount_sum(inv, m, e["invocations"])
            cols["install_count"] = distinct_count(inv, m, users, U, e["installed"] > 0)
            cols["claude_code_metrics.distinct_session_plugin_used_count"] = units(CODE)
            cols["cowork_metrics.distinct_session_plugin_used_count"] = units(COWORK)
        elif kind == "artifacts":
            cols["artifacts_created_count"] = bincount_sum(inv, m, e["created"])
            cols["published_artifacts_created_count"] = bincount_sum(inv, m, e["published"])
        return Table(cols, {k: v for k, v in nulls.items() if v.any()})

"""One day of engagement: per-user metric columns and per-user events, generated from the activity plan."""

from __future__ import annotations

from datetime import date

import numpy as np

from simulator.generators.engagement.arrays import (
    DayData,
    bincount_sum,
    concat,
    group_rows,
    pick,
    session_units,
    split_calls,
)
from simulator.generators.engagement.catalogues import Entities
from simulator.generators.engagement.vocab import (
    ARTIFACT_CHAT_WEIGHTS,
    ARTIFACT_TYPES,
    CHAT,
    CLASSIFIED_FROM,
    CODE,
    CODE_COWORK_ARTIFACTS_FROM,
    COWORK,
    HTML_TYPE,
    OFFICE,
    OFFICE_APPS,
    OFFICE_ATTRIBUTION_FROM,
    USER_COLUMNS,
)
from simulator.ids import np_rng


class DayBuilder:
    """Generates one day (mixed into :class:`EngagementData`)."""

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
        c["design_metrics.distinct_projects_used_count"] = np.where(design, session_units(g, dsess, 0.3), 0)
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
                rows, ent = pick(g, k, cat.weight * cat.allowed[:, prod])
                parts.append(
                    build(
                        rows, ent, prod, np.full(rows.size, -1), session_units(g, budgets[prod][rows], unit_p)
                    )
                )
            rate, cap = rates[OFFICE]
            lam = np.broadcast_to(rate * inten[:, None], (n, 4))
            k = np.minimum(np.where(apps, g.poisson(lam), 0), cap).reshape(-1)
            flat, ent = pick(g, k, cat.weight * cat.allowed[:, OFFICE])
            rows, app = flat // 4, flat % 4
            parts.append(build(rows, ent, OFFICE, app, session_units(g, osess[rows, app], unit_p)))
            return concat(parts)

        # projects (chat only): each project use gets >= 1 of the user's conversations and messages
        pj = self.projects
        existing = pj.weight * (pj.extra["created_day"] <= d.toordinal())
        k = np.minimum(np.minimum(pois(0.45 * inten, chat), 3), conv)
        rows, ent = pick(g, k, existing)
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
            read, write, uncl = split_calls(g, calls, np.full(rows.size, d >= CLASSIFIED_FROM[prod]))
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

        def plugin_ev(rows, ent, prod, invocations, units, installed: bool) -> dict[str, np.ndarray]:
            """Plugin use (``installed`` False) or install events on Claude Code or Cowork."""
            return ev(
                rows,
                ent,
                prod,
                -1,
                invocations=invocations,
                units=units,
                installed=np.full(rows.size, installed),
            )

        for prod, mask, rate, cap in ((CODE, code, 0.35, 3), (COWORK, cowork, 0.3, 2)):
            k = np.minimum(np.minimum(pois(rate * inten, mask), cap), budgets[prod])
            rows, ent = pick(g, k, pl.weight * pl.allowed[:, prod])
            units = session_units(g, budgets[prod][rows], 0.5)
            plugin_parts.append(plugin_ev(rows, ent, prod, units + g.poisson(1.2 * units), units, False))
        installer = (code | cowork) & (g.random(n) < 0.04)
        iprod = np.where(code & (~cowork | (g.random(n) < 0.5)), CODE, COWORK)
        for prod in (CODE, COWORK):
            rows, ent = pick(
                g, (installer & (iprod == prod)).astype(np.int64), pl.weight * pl.allowed[:, prod]
            )
            plugin_parts.append(plugin_ev(rows, ent, prod, np.zeros(rows.size), np.zeros(rows.size), True))
        pe = concat(plugin_parts)
        events["plugins"] = _rollup(
            pe,
            [("user", self.n_users), ("ent", len(pl)), ("prod", 4)],
            d,
            ("invocations", "units", "installed"),
        )
        events["plugins"]["installed"] = (events["plugins"]["installed"] > 0).astype(np.int64)

        # artifacts: one draw per artifact, aggregated per (user, product, type x shared)
        art_parts = []
        for prod, mask, rate in ((CHAT, chat, 0.3), (CODE, code, 0.25), (COWORK, cowork, 0.35)):
            if prod != CHAT and d < CODE_COWORK_ARTIFACTS_FROM:
                continue
            cnt = pois(rate * inten, mask)
            rows = np.repeat(np.arange(n), cnt)
            if prod == CHAT:
                cdf = np.cumsum(ARTIFACT_CHAT_WEIGHTS) / sum(ARTIFACT_CHAT_WEIGHTS)
                typ = np.minimum(
                    np.searchsorted(cdf, g.random(rows.size), side="right"), len(ARTIFACT_TYPES) - 1
                )
            else:
                typ = np.full(rows.size, HTML_TYPE)
            shared = g.random(rows.size) < 0.22
            published = shared & (g.random(rows.size) < 0.45)
            art_parts.append(
                ev(rows, typ * 2 + shared, prod, -1, created=np.ones(rows.size), published=published)
            )
        ae = concat(art_parts)
        events["artifacts"] = _rollup(
            ae,
            [("user", self.n_users), ("prod", 4), ("ent", 2 * len(ARTIFACT_TYPES))],
            d,
            ("created", "published"),
        )
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


def _rollup(ev: dict[str, np.ndarray], keys, d: date, sums: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Events of a day summed per (user, entity, product) key, one row per key in key order."""
    inv, m, k = group_rows(ev, keys)
    out = {
        "user": k["user"],
        "day": np.full(m, d.toordinal(), dtype=np.int64),
        "ent": k["ent"],
        "prod": k["prod"],
        "app": np.full(m, -1, dtype=np.int64),
    }
    out.update({name: bincount_sum(inv, m, ev[name]) for name in sums})
    return out

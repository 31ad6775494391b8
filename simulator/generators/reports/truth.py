"""Ground truth of the Enterprise usage and cost reports: exact totals straight from the records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np

from simulator.clock import day_start, iso
from simulator.freshness import report_refreshed_at
from simulator.generators.reports.codes import MODEL_IDS, PRODUCTS, T_1H, T_5M, T_OUT, T_READ, T_UNCACHED, usd
from simulator.generators.reports.frames import Frame, Selection, collect
from simulator.generators.reports.grouping import group_sum
from simulator.generators.reports.records import ReportData, reports_for
from simulator.world.organization import Organization


def truth_refresh(sim, params: dict, org: Organization) -> datetime | None:
    if org.kind != "enterprise":
        raise ValueError(f"{org.slug} is not a Claude Enterprise organization (no usage/cost reports)")
    mode = params.get("as_of", "now")
    if mode == "final":
        return None
    if mode != "now":
        raise ValueError("as_of must be 'now' (what the API shows at the simulator's clock) or 'final'")
    return report_refreshed_at(sim.now(), sim.refresh_hours)


def _days(start: date, end: date):
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


def _day_frame(sim, org, d: date, refreshed, sel: Selection | None = None) -> tuple[ReportData, Frame]:
    rd = reports_for(sim, org)
    t0 = day_start(d)
    return rd, collect(rd, t0, t0 + timedelta(days=1), refreshed, sim.revision_days, sel or Selection())


def _money_by(f: Frame, codes: np.ndarray, labels: Callable[[int], object], key: str) -> list[dict]:
    lst = f.lst.sum(axis=1)
    amt = f.amt.sum(axis=1)
    out = []
    for c in np.unique(codes):
        m = codes == c
        out.append(
            {
                key: labels(int(c)),
                "amount_usd": usd(int(amt[m].sum())),
                "list_amount_usd": usd(int(lst[m].sum())),
            }
        )
    return out


def truth_header(sim, org, start, end, refreshed) -> dict:
    return {
        "org": org.slug,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "currency": "USD",
        "as_of": iso(refreshed) if refreshed else "final",
    }


def truth_enterprise_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Per-day amount and list amount (USD) of the whole organization, by product, model and cost type."""
    refreshed = truth_refresh(sim, params, org)
    days, tot_a, tot_l = [], 0, 0
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        a, lst = int(f.amt.sum()), int(f.lst.sum())
        tot_a, tot_l = tot_a + a, tot_l + lst
        by_cost = []
        amt_c = f.amt
        for name, (lo, hi) in (("tokens", (0, 5)), ("web_search", (5, 6)), ("code_execution", (6, 7))):
            by_cost.append(
                {
                    "cost_type": name,
                    "amount_usd": usd(int(amt_c[:, lo:hi].sum())),
                    "list_amount_usd": usd(int(f.lst[:, lo:hi].sum())),
                }
            )
        days.append(
            {
                "date": d.isoformat(),
                "amount_usd": usd(a),
                "list_amount_usd": usd(lst),
                "by_product": _money_by(f, f.product, lambda c: PRODUCTS[c] if c >= 0 else None, "product"),
                "by_model": _money_by(f, f.model, lambda c: MODEL_IDS[c] if c >= 0 else None, "model"),
                "by_cost_type": by_cost,
            }
        )
    return {
        **truth_header(sim, org, start, end, refreshed),
        "discount": str(org.discount),
        "days": days,
        "total": {"amount_usd": usd(tot_a), "list_amount_usd": usd(tot_l)},
    }


def _usage_totals(f: Frame) -> dict:
    t = f.tokens.sum(axis=0) if f.n else np.zeros(5, dtype=np.int64)
    return {
        "uncached_input_tokens": int(t[T_UNCACHED]),
        "cache_creation.ephemeral_5m_input_tokens": int(t[T_5M]),
        "cache_creation.ephemeral_1h_input_tokens": int(t[T_1H]),
        "cache_read_input_tokens": int(t[T_READ]),
        "output_tokens": int(t[T_OUT]),
        "total_tokens": int(t.sum()),
        "requests": int(f.requests.sum()),
        "web_search_requests": int(f.searches.sum()),
    }


def truth_enterprise_usage(sim, org, start: date, end: date, params: dict) -> dict:
    """Per-day token totals by token type (whole organization, incl. non-seat usage), and by product."""
    refreshed = truth_refresh(sim, params, org)
    days = []
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        by_product = []
        for c in np.unique(f.product):
            m = np.flatnonzero(f.product == c)
            by_product.append({"product": PRODUCTS[c] if c >= 0 else None, **_usage_totals(f.take(m))})
        days.append({"date": d.isoformat(), **_usage_totals(f), "by_product": by_product})
    return {**truth_header(sim, org, start, end, refreshed), "days": days}


def truth_enterprise_user_cost(sim, org, start: date, end: date, params: dict) -> dict:
    """Seat-user cost: per day (sum over users, org total and the non-seat gap) and per user over the range."""
    refreshed = truth_refresh(sim, params, org)
    days = []
    per_user_l: dict[int, int] = {}
    per_user_a: dict[int, int] = {}
    for d in _days(start, end):
        _, f = _day_frame(sim, org, d, refreshed)
        lst, amt = f.lst.sum(axis=1), f.amt.sum(axis=1)
        seat = f.user >= 0
        days.append(
            {
                "date": d.isoformat(),
                "users_amount_usd": usd(int(amt[seat].sum())),
                "users_list_amount_usd": usd(int(lst[seat].sum())),
                "org_amount_usd": usd(int(amt.sum())),
                "org_list_amount_usd": usd(int(lst.sum())),
                "non_user_amount_usd": usd(int(amt[~seat].sum())),
                "non_user_list_amount_usd": usd(int(lst[~seat].sum())),
            }
        )
        if seat.any():
            g = group_sum([f.user[seat]], np.column_stack([lst[seat], amt[seat]]))
            for rep, (sl, sa) in zip(g.rep, g.sums, strict=True):
                u = int(f.user[seat][rep])
                per_user_l[u] = per_user_l.get(u, 0) + int(sl)
                per_user_a[u] = per_user_a.get(u, 0) + int(sa)
    users = [
        {"user_id": org.users[u].id, "amount_usd": usd(per_user_a[u]), "list_amount_usd": usd(per_user_l[u])}
        for u in sorted(per_user_l, key=lambda i: org.users[i].id)
    ]
    total_a = sum(per_user_a.values())
    total_l = sum(per_user_l.values())
    return {
        **truth_header(sim, org, start, end, refreshed),
        "days": days,
        "users": users,
        "total": {"amount_usd": usd(total_a), "list_amount_usd": usd(total_l)},
    }


#: The client's lossless groupings of the bucketed reports, endpoint -> grouping name -> ``group_by[]``.
#: They mirror ``USAGE_GROUPINGS`` and ``COST_GROUPINGS`` of ``claude_assets/ingest/enterprise_reports/groupings.py``


def truth_anomalies(sim, org, start: date, end: date, params: dict) -> dict:
    """Every cost spike injected in [start, end): a heavy seat user spending 6-12x, or a product 4-8x, on one day."""
    if org.kind != "enterprise":
        raise ValueError(f"{org.slug} is not a Claude Enterprise organization (no usage/cost reports)")
    rd = reports_for(sim, org)
    spikes = (rd.spike(d) for d in _days(start, end))
    return {"org": org.slug, "anomalies": [s.as_truth(org) for s in spikes if s is not None]}

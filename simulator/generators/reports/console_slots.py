"""Hourly and per-minute rows of a Console organization's beta reports, billed as the Console cost report bills."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import numpy as np

from simulator.catalog import (
    CODE_EXECUTION_FREE_SECONDS_PER_DAY,
    CODE_EXECUTION_MICROCENTS_PER_HOUR,
    MODELS_BY_ID,
    SERVICE_TIERS,
    TOKEN_TYPES,
    WEB_SEARCH_MICROCENTS,
    price_microcents_per_token,
)
from simulator.generators.console.records import split_integer
from simulator.generators.reports.codes import C_WEB, COMPONENTS, CONTEXT_WINDOWS, GEOS, MODEL_IDS, SPEEDS
from simulator.generators.reports.dims import CONSOLE_DIMS

CONSOLE_PRODUCTS = ("messages_api", "message_batches_api", "claude_console")
ACTOR_TYPES = ("user_actor", "service_account_actor", "api_actor", "federated_actor")
_BILLED_TIERS = ("standard", "batch")
_CONSOLE_DIURNAL = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 3, 2)


class ConsoleSlots:
    """Builds and caches the hour and minute rows (mixed into :class:`ConsoleReports`)."""

    # -- rows ----------------------------------------------------------------------------------------
    def _dims(self, dims: tuple) -> tuple[int, ...]:
        account, key, svac, ws, model, tier, cw, geo, speed = dims
        actor = self.actor_index[account or svac or key]
        actor_type = ACTOR_TYPES.index(self.actors[actor][0])
        product = 2 if key is None and account else (1 if tier == "batch" else 0)
        return (
            actor,
            actor_type,
            self.key_index[key] if key else -1,
            self.workspace_index[ws] if ws else 0,
            SERVICE_TIERS.index(tier),
            product,
            MODEL_IDS.index(model),
            CONTEXT_WINDOWS.index(cw),
            GEOS.index(geo) if geo in GEOS else -1,
            SPEEDS.index(speed),
        )

    def _money(self, d: date, dims: tuple, metrics: tuple) -> tuple[list[int], list[int]]:
        """Billed list and discounted amount of one daily record (the Console cost report's rounding)."""
        lst, amt = [0] * len(COMPONENTS), [0] * len(COMPONENTS)
        _, _, _, _, model_id, tier, cw, geo, speed = dims
        if tier not in _BILLED_TIERS:
            return lst, amt  # priority tier is billed outside the cost report
        keep = Decimal(1) - self.org.discount
        model = MODELS_BY_ID[model_id]
        for t, token_type in enumerate(TOKEN_TYPES):
            if metrics[t]:
                unit = price_microcents_per_token(
                    model, token_type, d, service_tier=tier, context_window=cw, inference_geo=geo, speed=speed
                )
                lst[t] = int((metrics[t] * unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
                amt[t] = int((metrics[t] * unit * keep).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if metrics[5]:
            lst[C_WEB] = metrics[5] * WEB_SEARCH_MICROCENTS
            amt[C_WEB] = int((metrics[5] * WEB_SEARCH_MICROCENTS * keep).quantize(Decimal(1)))
        return lst, amt

    def hours(self, d: date) -> dict:
        return _console_hours(self, d)

    def minutes(self, d: date, hour: int) -> dict:
        return _console_minutes(self, d, hour)

    def _build_hours(self, d: date) -> dict:
        recs = self.data.records(d)
        index = {rec.dims: i for i, rec in enumerate(recs)}
        rec_i, slot, metrics = [], [], []
        for h, hour in enumerate(self.data.hourly(d)):
            for rec in hour:
                rec_i.append(index[rec.dims])
                slot.append(h)
                metrics.append(rec.metrics)
        n = len(rec_i)
        rec_i = np.array(rec_i, dtype=np.int64)
        m = np.array(metrics, dtype=np.int64).reshape(n, 6)
        money = [self._money(d, rec.dims, rec.metrics) for rec in recs]
        day_lst = np.array([x[0] for x in money], dtype=np.int64).reshape(len(recs), 7)
        day_amt = np.array([x[1] for x in money], dtype=np.int64).reshape(len(recs), 7)
        lst, amt = np.zeros((n, 7), dtype=np.int64), np.zeros((n, 7), dtype=np.int64)
        for c in range(6):
            lst[:, c] = _allocate(day_lst[:, c], rec_i, m[:, c])
            amt[:, c] = _allocate(day_amt[:, c], rec_i, m[:, c])
        codes = np.array([self._dims(rec.dims) for rec in recs], dtype=np.int64).reshape(len(recs), 10)[rec_i]
        out = {
            "slot": np.array(slot, dtype=np.int64),
            "codes": codes,
            "tokens": m[:, :5].copy(),
            "searches": m[:, 5].copy(),
            "lst": lst,
            "amt": amt,
        }
        # code execution: billed per workspace-day beyond the free allowance, spread over the day
        keep = Decimal(1) - self.org.discount
        free = CODE_EXECUTION_FREE_SECONDS_PER_DAY
        peak = _CONSOLE_DIURNAL.index(max(_CONSOLE_DIURNAL))
        rows = []
        for ws, seconds in self.data.code_execution(d):
            billable = max(0, seconds - free)
            free = max(0, free - seconds)
            if not billable:
                continue
            exact = Decimal(billable) * CODE_EXECUTION_MICROCENTS_PER_HOUR / 3600
            total_l = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
            total_a = int((exact * keep).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
            ws_code = self.workspace_index[ws] if ws else 0
            for h, (a, b) in enumerate(
                zip(
                    split_integer(total_l, _CONSOLE_DIURNAL, peak),
                    split_integer(total_a, _CONSOLE_DIURNAL, peak),
                    strict=True,
                )
            ):
                if a or b:
                    rows.append(
                        (
                            h,
                            (-1, -1, -1, ws_code, -1, -1, -1, -1, -1, -1),
                            (0,) * 5,
                            0,
                            [0] * 6 + [a],
                            [0] * 6 + [b],
                        )
                    )
        if rows:
            extra = _console_arrays(rows)
            out = {k: np.concatenate([out[k], extra[k]]) for k in out}
        for v in out.values():
            v.setflags(write=False)
        return out

    def _build_minutes(self, d: date, hour: int) -> dict:
        base = self.hours(d)
        here = np.flatnonzero(base["slot"] == hour)
        parent = {tuple(base["codes"][i].tolist()): k for k, i in enumerate(here)}
        known: dict[tuple, tuple] = {}
        owner, slot, metrics = [], [], []
        for minute, recs in enumerate(self.data.minutes(d, hour)):
            for rec in recs:
                codes = known.get(rec.dims) or known.setdefault(rec.dims, self._dims(rec.dims))
                owner.append(parent[codes])
                slot.append(minute)
                metrics.append(rec.metrics)
        n = len(owner)
        owner = np.array(owner, dtype=np.int64)
        m = np.array(metrics, dtype=np.int64).reshape(n, 6)
        p_lst, p_amt = base["lst"][here], base["amt"][here]
        lst, amt = np.zeros((n, 7), dtype=np.int64), np.zeros((n, 7), dtype=np.int64)
        for c in range(6):
            lst[:, c] = _allocate(p_lst[:, c], owner, m[:, c])
            amt[:, c] = _allocate(p_amt[:, c], owner, m[:, c])
        out = {
            "slot": np.array(slot, dtype=np.int64),
            "codes": base["codes"][here][owner],
            "tokens": m[:, :5].copy(),
            "searches": m[:, 5].copy(),
            "lst": lst,
            "amt": amt,
        }
        execs = here[base["codes"][here][:, 0] < 0]  # code execution: at the top of the hour
        if len(execs):
            out = {
                k: np.concatenate([out[k], base[k][execs] if k != "slot" else np.zeros(len(execs), np.int64)])
                for k in out
            }
        for v in out.values():
            v.setflags(write=False)
        return out


def _allocate(totals: np.ndarray, owner: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each owner's integer total over its rows in proportion to ``weights``, exactly.

    Every row gets ``floor(total * w / W)``; the remainder goes to the owner's first heaviest row.
    """
    n_owner = len(totals)
    w_sum = np.zeros(n_owner, dtype=np.int64)
    np.add.at(w_sum, owner, weights)
    t, ws = totals[owner], w_sum[owner]
    safe = np.maximum(ws, 1)
    if int(w_sum.max(initial=0)) < 3_000_000_000:
        q, r = np.divmod(t, safe)
        part = q * weights + (r * weights) // safe
    else:  # exact big-integer arithmetic
        part = np.array(
            [int(a) * int(b) // int(c) for a, b, c in zip(t, weights, safe, strict=True)], dtype=np.int64
        )
    part = np.where(ws > 0, part, 0)
    got = np.zeros(n_owner, dtype=np.int64)
    np.add.at(got, owner, part)
    order = np.lexsort((np.arange(len(owner)), -weights, owner))  # per owner: heaviest row first
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]] if len(order) else order
    part[first] += (totals - got)[owner[first]]
    return part


#: Record column of each Console beta dimension (the columns of ``codes``).
CONSOLE_COLS = tuple({"context_window": "cw", "inference_geo": "geo"}.get(d, d) for d in CONSOLE_DIMS)


def _console_arrays(rows: list[tuple]) -> dict:
    n = len(rows)
    out = {
        "slot": np.array([r[0] for r in rows], dtype=np.int64),
        "codes": np.array([r[1] for r in rows], dtype=np.int64).reshape(n, len(CONSOLE_COLS)),
        "tokens": np.array([r[2] for r in rows], dtype=np.int64).reshape(n, 5),
        "searches": np.array([r[3] for r in rows], dtype=np.int64),
        "lst": np.array([r[4] for r in rows], dtype=np.int64).reshape(n, 7),
        "amt": np.array([r[5] for r in rows], dtype=np.int64).reshape(n, 7),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


@lru_cache(maxsize=256)
def _console_hours(cr: ConsoleSlots, d: date) -> dict:
    return cr._build_hours(d)


@lru_cache(maxsize=256)
def _console_minutes(cr: ConsoleSlots, d: date, hour: int) -> dict:
    return cr._build_minutes(d, hour)

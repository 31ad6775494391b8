"""Report rows and ranked units: the grouping every report route pages through, shared with the request minimums."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from simulator.generators.reports.dims import COLUMN, CONSTANT_DIMS, COST_DIMS
from simulator.generators.reports.frames import Frame, Selection, expand_rbac
from simulator.generators.reports.grouping import component_fanout, group_sum, usage_values
from simulator.generators.reports.records import ReportData

#: A bucketed report returns at most this many rows per bucket (the top groups, no remainder row).
TOP_GROUPS = 100


# columns of the usage value vector: uncached, 5m, 1h, cache read, output, requests, web searches
U_REQ, U_WEB = 5, 6


def _columns(f: Frame, dims: list[str]) -> list[np.ndarray]:
    out = []
    for d in dims:
        col = COLUMN.get(d)
        if d in f.extra:
            out.append(f.extra[d])
        elif col == "rbac":
            out.append(f.extra["rbac"])
        elif col == "actor_type":
            out.append(np.where(f.user >= 0, 0, -1))
        else:
            out.append(getattr(f, col))
    return out


def split_dims(group_by: list[str], constant: frozenset[str] = CONSTANT_DIMS) -> tuple[list[str], str | None]:
    """(dimensions that split rows, cost fan-out mode)."""
    dims = [d for d in group_by if d not in COST_DIMS and d not in constant]
    mode = None
    if "token_type" in group_by:
        mode = "token_type"
    elif "cost_type" in group_by:
        mode = "cost_type"
    return dims, mode


def _query(
    rd: ReportData, f: Frame, group_by: list[str] | tuple[str, ...], sel: Selection | None
) -> tuple[Frame, list[str], str | None]:
    """The query's records (one per RBAC group of its user when grouped so), splitting dims and fan-out mode."""
    dims, mode = split_dims(list(group_by))
    if "rbac_group_id" in dims:
        f = expand_rbac(rd, f, (sel or Selection()).rbac_groups)
    return f, dims, mode


def _bucket_col(f: Frame, grid0: datetime, width: int) -> np.ndarray:
    return (f.sec - int(grid0.timestamp())) // width


@dataclass
class Table:
    """Aggregated rows in page order: dimension codes, value sums and (optional) fan-out components."""

    codes: dict[str, np.ndarray]
    sums: np.ndarray
    orig: np.ndarray | None = None  # unit number (as grouped) of each row; the key of its components
    comp_unit: np.ndarray | None = None  # unit number of each component row, sorted
    comp_code: np.ndarray | None = None
    comp_sums: np.ndarray | None = None  # [list, amount]

    def __post_init__(self) -> None:
        if self.orig is None:
            self.orig = np.arange(len(self.sums))

    @property
    def n(self) -> int:
        return len(self.sums)

    def components(self, unit: int) -> range:
        """Component rows of a unit (by its ``orig`` number)."""
        lo = int(np.searchsorted(self.comp_unit, unit, side="left"))
        hi = int(np.searchsorted(self.comp_unit, unit, side="right"))
        return range(lo, hi)

    def rows(self, lo: int, hi: int) -> Rows:
        return Rows(
            {k: v[lo:hi].tolist() for k, v in self.codes.items()},
            self.sums[lo:hi].tolist(),
            self.orig[lo:hi].tolist(),
        )


@dataclass
class Rows:
    """A page of a Table as Python lists (fast to render)."""

    codes: dict[str, list[int]]
    sums: list[list[int]]
    orig: list[int]


def _cost_values(f: Frame) -> np.ndarray:
    return np.column_stack([f.lst.sum(axis=1), f.amt.sum(axis=1), f.requests]).astype(np.int64)


def _units(
    f: Frame, dims: list[str], *, bucket: tuple[datetime, int] | None, cost: bool, mode: str | None
) -> Table:
    """One unit per (bucket, dims) combination with usage, plus its cost fan-out rows."""
    names = (["bucket"] if bucket else []) + dims
    cols = ([_bucket_col(f, *bucket)] if bucket else []) + _columns(f, dims)
    values = _cost_values(f) if cost else usage_values(f)
    g = group_sum(cols, values)
    codes = {name: col[g.rep] for name, col in zip(names, cols, strict=True)}
    table = Table(codes, g.sums)
    if mode:
        table.comp_unit, table.comp_code, table.comp_sums = component_fanout(f, g, mode)
    return table


def bucket_rows(
    rd: ReportData,
    f: Frame,
    group_by: list[str] | tuple[str, ...],
    *,
    grid0: datetime,
    width: int,
    cost: bool,
    sel: Selection | None = None,
) -> Table:
    """Every row of a bucketed report (B8/B9) before the top-100 cut, in no particular order.

    One row per (bucket, group), or per (bucket, group, cost component) when a cost report groups by
    ``cost_type``/``token_type``: each counts against the bucket's top 100. ``f`` holds the query's
    records (:func:`collect` under its selection). Shared by the route and ``min_requests_reports``.
    """
    f, dims, mode = _query(rd, f, group_by, sel)
    t = _units(f, dims, bucket=(grid0, width), cost=cost, mode=mode if cost else None)
    if cost and mode:  # every (group, cost component) is a row of its own
        unit, comp, sums = t.comp_unit, t.comp_code, t.comp_sums
        t = Table({**{k: v[unit] for k, v in t.codes.items()}, "component": comp}, sums)
    return t


def v2_table(
    f: Frame, dims: list[str], mode: str | None, *, bucket: tuple[datetime, int] | None, cost: bool
) -> Table:
    t = _units(f, dims, bucket=bucket, cost=cost, mode=mode)
    if cost:  # one row per combination *with cost* (e.g. no priority-tier or free code-execution rows)
        t = reorder(t, np.flatnonzero(t.sums[:, :2].any(axis=1)))
        if mode:
            billed = t.comp_sums.any(axis=1)
            t.comp_unit, t.comp_code, t.comp_sums = (
                t.comp_unit[billed],
                t.comp_code[billed],
                t.comp_sums[billed],
            )
    return t


def ranked_units(
    rd: ReportData,
    f: Frame,
    group_by: list[str] | tuple[str, ...],
    *,
    per_user: bool,
    bucket: tuple[datetime, int] | None,
    cost: bool,
    sel: Selection | None = None,
) -> Table:
    """The ranked units of a report, its paging unit. Shared by the routes and ``min_requests_reports``.

    ``per_user``: a per-user report (B10/B11), one unit per (actor, bucket, group), ``f`` holding the
    query's seat-user records. Otherwise a beta report (B12) of an Enterprise organization, ``f``
    holding the query's records.
    """
    f, dims, mode = _query(rd, f, group_by, sel)
    if per_user:
        return _units(f, ["actor", *dims], bucket=bucket, cost=cost, mode=mode)
    return v2_table(f, dims, mode, bucket=bucket, cost=cost)


def reorder(t: Table, order: np.ndarray) -> Table:
    """The table with its units in ``order`` (a permutation or a subset); components stay keyed by unit."""
    return Table(
        {k: v[order] for k, v in t.codes.items()},
        t.sums[order],
        t.orig[order],
        t.comp_unit,
        t.comp_code,
        t.comp_sums,
    )


def order_metric(t: Table, cost: bool, order_by: str) -> np.ndarray:
    if cost:
        return t.sums[:, 0 if order_by == "list_amount" else 1]
    if order_by == "total_tokens":
        return t.sums[:, :5].sum(axis=1)
    return t.sums[:, {"output_tokens": 4, "requests": U_REQ, "uncached_input_tokens": 0}[order_by]]


def rank_units(
    t: Table, metric: np.ndarray, descending: bool, by_time: bool = False, time_descending: bool = True
) -> Table:
    """Units ranked by ``metric`` (ties: dimension order); or by bucket, then metric highest first."""
    tie = np.arange(t.n)
    if by_time:
        b = t.codes["bucket"]
        order = np.lexsort((tie, -metric, -b if time_descending else b))
    else:
        order = np.lexsort((tie, -metric if descending else metric))
    return reorder(t, order)

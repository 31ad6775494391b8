"""Selecting records: the filters of a query (Selection) and the selected records of a time window (Frame)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from simulator.generators.reports.codes import COMPONENTS, DayRecords, epoch
from simulator.generators.reports.generate import empty_columns
from simulator.generators.reports.records import ReportData

# ---------------------------------------------------------------------------------------------
# Selecting records


@dataclass
class Selection:
    """Record filters of one query (None = no filter on that dimension)."""

    products: frozenset[int] | None = None
    models: frozenset[int] | None = None
    users: frozenset[int] | None = None
    rbac_groups: tuple[int, ...] | None = None
    channels: frozenset[int] | None = None
    cws: frozenset[int] | None = None
    geos: frozenset[int] | None = None
    speeds: frozenset[int] | None = None
    tag_cats: frozenset[int] | None = None
    tag_users: frozenset[int] | None = None
    seat_only: bool = False
    nothing: bool = False  # a filter that matches nothing for this organization

    def mask(self, rd: ReportData, r: DayRecords) -> np.ndarray | None:
        if self.nothing:
            return np.zeros(r.n, dtype=bool)
        m = None

        def both(a, b):
            return b if a is None else a & b

        if self.seat_only:
            m = both(m, r.user >= 0)
        for values, col in (
            (self.products, r.product),
            (self.models, r.model),
            (self.users, r.user),
            (self.channels, r.channel),
            (self.cws, r.cw),
            (self.geos, r.geo),
            (self.speeds, r.speed),
            (self.tag_cats, r.tag_cat),
            (self.tag_users, r.tag_user),
        ):
            if values is not None:
                m = both(m, np.isin(col, np.fromiter(values, dtype=np.int64, count=len(values))))
        if self.rbac_groups is not None:
            ok = (
                rd.membership[:, list(self.rbac_groups)].any(axis=1)
                if self.rbac_groups
                else np.zeros(len(rd.org.users), dtype=bool)
            )
            m = both(m, (r.user >= 0) & ok[np.maximum(r.user, 0)])
        return m


@dataclass
class Frame:
    """Selected records of a time window (concatenated days), with absolute times."""

    sec: np.ndarray  # int64 seconds since the epoch
    user: np.ndarray
    product: np.ndarray
    model: np.ndarray
    cw: np.ndarray
    geo: np.ndarray
    speed: np.ndarray
    channel: np.ndarray
    tag_cat: np.ndarray
    tag_user: np.ndarray
    tokens: np.ndarray
    requests: np.ndarray
    searches: np.ndarray
    lst: np.ndarray
    amt: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.sec)

    def take(self, idx: np.ndarray) -> Frame:
        return Frame(
            **{k: getattr(self, k)[idx] for k in _FRAME_COLS},
            extra={k: v[idx] for k, v in self.extra.items()},
        )


_FRAME_COLS = (
    "sec",
    "user",
    "product",
    "model",
    "cw",
    "geo",
    "speed",
    "channel",
    "tag_cat",
    "tag_user",
    "tokens",
    "requests",
    "searches",
    "lst",
    "amt",
)


def collect(
    rd: ReportData, t0: datetime, t1: datetime, refreshed: datetime | None, revision_days: int, sel: Selection
) -> Frame:
    """Records with a timestamp in [t0, t1) that the refresh shows and the selection keeps."""
    a, b = int(t0.timestamp()), int(t1.timestamp())
    chunks = []
    d = t0.astimezone(UTC).date()
    while epoch(d) < b:
        r = rd.day(d)
        base = epoch(d)
        m = rd.visible(r, refreshed, revision_days)
        s = sel.mask(rd, r)
        if s is not None:
            m = s if m is None else m & s
        if a > base or b < base + 86_400:
            w = (r.ts >= a - base) & (r.ts < b - base)
            m = w if m is None else m & w
        idx = slice(None) if m is None else np.flatnonzero(m)
        chunk = {k: getattr(r, k)[idx] for k in _FRAME_COLS if k != "sec"}
        chunk["sec"] = r.ts[idx].astype(np.int64) + base
        chunks.append(chunk)
        d += timedelta(days=1)
    if not chunks:
        empty = empty_columns()
        chunks.append(
            {k: empty[k] for k in _FRAME_COLS if k in empty}
            | {
                "sec": np.zeros(0, dtype=np.int64),
                "lst": np.zeros((0, len(COMPONENTS)), dtype=np.int64),
                "amt": np.zeros((0, len(COMPONENTS)), dtype=np.int64),
            }
        )
    return Frame(**{k: np.concatenate([c[k] for c in chunks]) for k in _FRAME_COLS})


def expand_rbac(rd: ReportData, f: Frame, restrict: tuple[int, ...] | None) -> Frame:
    """One row per (record, RBAC group of its user); users in no group and non-user usage get group -1."""
    m = rd.membership[np.maximum(f.user, 0)] & (f.user >= 0)[:, None]
    if restrict is not None:
        keep = np.zeros(m.shape[1], dtype=bool)
        keep[list(restrict)] = True
        m = m & keep[None, :]
    rows, groups = np.nonzero(m)
    lone = np.flatnonzero(~m.any(axis=1))
    idx = np.concatenate([rows, lone])
    out = f.take(idx)
    out.extra["rbac"] = np.concatenate([groups, np.full(len(lone), -1)]).astype(np.int64)
    return out

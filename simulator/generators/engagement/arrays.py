"""Columnar tables, query scopes and the numpy grouping helpers engagement data is aggregated with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np


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
def concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def take_rows(ev: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in ev.items()}


def bincount_sum(inv: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    if values.dtype == bool:
        values = values.astype(np.int64)
    return np.rint(np.bincount(inv, weights=values, minlength=n)).astype(np.int64)


def group_count(inv: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(inv, minlength=n).astype(np.int64)


def distinct_count(
    inv: np.ndarray, n: int, values: np.ndarray, radix: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Per group, the number of distinct ``values`` (users, entities) among the rows (optionally masked)."""
    if mask is not None:
        inv, values = inv[mask], values[mask]
    pairs = np.unique(inv.astype(np.int64) * radix + values.astype(np.int64))
    return np.bincount((pairs // radix).astype(np.int64), minlength=n).astype(np.int64)


def group_rows(
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


def pick(g: np.random.Generator, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def session_units(g: np.random.Generator, budget: np.ndarray, p: float) -> np.ndarray:
    """Sessions/conversations that used an entity: at least 1, at most ``budget`` (>= 1)."""
    return 1 + g.binomial(np.maximum(budget - 1, 0), p)


def split_calls(g, calls: np.ndarray, classified: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    read = g.binomial(calls, 0.45)
    write = g.binomial(calls - read, 0.4)
    uncl = calls - read - write
    z = np.zeros_like(calls)
    return np.where(classified, read, z), np.where(classified, write, z), np.where(classified, uncl, z)


def rank_of(values: Sequence[str]) -> np.ndarray:
    order = sorted(range(len(values)), key=lambda i: values[i])
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank

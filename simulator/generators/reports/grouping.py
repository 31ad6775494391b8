"""Exact integer grouping of records: composite keys, group sums and the cost-component fan-out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.catalog import TOKEN_TYPES
from simulator.generators.reports.codes import COMPONENTS
from simulator.generators.reports.frames import Frame


def composite_key(keys: Sequence[np.ndarray], n: int) -> np.ndarray:
    """A single int64 key whose order is the lexicographic order of the (code) columns."""
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for k in keys:
        k = k.astype(np.int64) + 1
        r = int(k.max()) + 1 if n else 1
        if radix * r >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key = key.astype(np.int64).reshape(-1)
            radix = int(key.max()) + 1 if n else 1
        key = key * r + k
        radix *= r
    return key


@dataclass
class Grouped:
    rep: np.ndarray  # a row index of each group (to decode its dimension codes)
    sums: np.ndarray  # [groups, values] int64
    inverse: np.ndarray  # group of every input row
    order: np.ndarray  # input rows sorted by group
    starts: np.ndarray  # first position (in ``order``) of each group

    def reduce(self, values: np.ndarray) -> np.ndarray:
        """Per-group sums of more per-row values (exact integer sums)."""
        if len(self.order) == 0:
            return np.zeros((0, *values.shape[1:]), dtype=values.dtype)
        return np.add.reduceat(values[self.order], self.starts, axis=0)


def group_sum(keys: Sequence[np.ndarray], values: np.ndarray) -> Grouped:
    n = len(values)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Grouped(z, np.zeros((0, values.shape[1]), dtype=np.int64), z, z, z)
    key = composite_key(keys, n)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.r_[True, ks[1:] != ks[:-1]]
    starts = np.flatnonzero(first)
    sums = np.add.reduceat(values[order], starts, axis=0)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return Grouped(order[starts], sums, inverse, order, starts)


def usage_values(f: Frame) -> np.ndarray:
    """[uncached, 5m, 1h, cache read, output, requests, web searches] per row."""
    return np.column_stack([f.tokens, f.requests, f.searches]).astype(np.int64)


def component_fanout(f: Frame, g: Grouped, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cost components of every group of ``g``: one row per (group, component present in it).

    ``mode`` ``cost_type``: components tokens(0) / web_search(1) / code_execution(2);
    ``token_type``: the five token types (0-4), web_search (5), code_execution (6).
    Returns (group, component code, [list, amount] micro-cents), sorted by group then component.
    """
    k = len(COMPONENTS)
    sums = g.reduce(
        np.concatenate(
            [f.lst, f.amt, f.tokens > 0, (f.searches > 0)[:, None], (f.product < 0)[:, None]],
            axis=1,
            dtype=np.int64,
        )
    )
    lst, amt, present = sums[:, :k], sums[:, k : 2 * k], sums[:, 2 * k :]
    if mode == "cost_type":
        lst = np.column_stack([lst[:, :5].sum(axis=1), lst[:, 5], lst[:, 6]])
        amt = np.column_stack([amt[:, :5].sum(axis=1), amt[:, 5], amt[:, 6]])
        present = np.column_stack([present[:, :5].sum(axis=1), present[:, 5], present[:, 6]])
    group, comp = np.nonzero(present > 0)
    return (
        group,
        comp.astype(np.int64),
        np.column_stack([lst[group, comp], amt[group, comp]]).astype(np.int64),
    )


def component_labels(mode: str, code: int) -> tuple[str, str | None]:
    """(cost_type, token_type) of a component code."""
    if mode == "cost_type":
        return ("tokens", "web_search", "code_execution")[code], None
    if code < 5:
        return "tokens", TOKEN_TYPES[code]
    return ("web_search", "code_execution")[code - 5], None

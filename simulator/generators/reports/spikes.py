"""Injected cost spikes of an Enterprise organization: about one week in seven, on one weekday, either one
seat user spends 6-12x its tokens (a runaway agent: the costliest user of Claude Code that day; a seat user's
days vary more than a whole product's), or one product 4-8x, for the whole UTC day.

The choice is deterministic per world seed, organization and ISO week; the ground truth lists each spike
(``anomalies``), and the records of the day carry it, so every report (organization, per-user, every
grouping) shows the same spike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator.generators.reports.codes import PRODUCTS
from simulator.generators.reports.profiles import TOKEN_CAP
from simulator.ids import rng
from simulator.world.organization import Organization

#: products a spike may hit: the ones every Enterprise organization uses every weekday
SPIKED_PRODUCTS = ("chat", "claude_code", "cowork")


@dataclass(frozen=True)
class Spike:
    """One injected spike: every record of ``slice`` (a seat user's id, or a product) on ``day`` has its tokens
    multiplied by ``multiplier``."""

    day: date
    slice_kind: str  # "user" | "product"
    slice: str  # the user id as the per-user reports name it, or the product as the legacy reports spell it
    multiplier: float
    code: int  # the user's index in org.users, or the product's code

    def mask(self, users: np.ndarray, products: np.ndarray) -> np.ndarray:
        """The records of the spiked slice, among records with these user and product codes."""
        return (users if self.slice_kind == "user" else products) == self.code

    def as_truth(self, org: Organization) -> dict:
        return {
            "org": org.slug,
            "day": self.day.isoformat(),
            "slice_kind": self.slice_kind,
            "slice": self.slice,
            "multiplier": round(self.multiplier, 6),
        }


def spike_on(
    org: Organization, d: date, users: np.ndarray, products: np.ndarray, token_cost: Callable[[], np.ndarray]
) -> Spike | None:
    """The spike injected on day ``d``, if any, given the user and product codes of the day's records before
    it and ``token_cost()``, the list price of each record's tokens (priced only on a day with a user spike)."""
    iso_year, week, _ = d.isocalendar()
    r = rng(org.world_seed, org.slug, "enterprise-spike", iso_year, week)
    if r.random() > 0.15 or d < org.created:
        return None
    weekday, kind, multiplier = r.randrange(5), r.choice(("user", "product")), r.uniform(4, 8)
    if d.weekday() != weekday:
        return None
    if kind == "product":
        product = r.choice(SPIKED_PRODUCTS)
        return Spike(d, "product", product, multiplier, PRODUCTS.index(product))
    seat = users >= 0
    if not seat.any():
        return None
    coding = seat & (products == PRODUCTS.index("claude_code"))  # a runaway is an agent's: prefer its users
    among = coding if coding.any() else seat
    per_user = np.bincount(users[among], weights=token_cost()[among].astype(float))
    pick = int(np.argmax(per_user))
    return Spike(
        d, "user", org.users[pick].id, 6 + (multiplier - 4) * 1.5, pick
    )  # 4-8 drawn, 6-12 for a user


def apply(spike: Spike, cols: dict) -> None:
    """Multiply the tokens of the spiked records (capped like any record's), in place, before pricing."""
    hit = spike.mask(cols["user"], cols["product"])
    if hit.any():
        scaled = np.rint(cols["tokens"][hit] * spike.multiplier)
        cols["tokens"][hit] = np.minimum(scaled, TOKEN_CAP).astype(np.int64)

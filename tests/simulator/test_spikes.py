"""The simulator's injected cost spikes: the ground truth lists each one (organization, day, slice kind,
slice, multiplier), Console API keys as well as Enterprise users and products, deterministically per seed,
and the data the reports serve carries exactly the spike the truth names."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import numpy as np
import pytest

from simulator.app import Simulator
from simulator.clock import SimClock
from simulator.generators.reports.codes import PRODUCTS
from simulator.generators.reports.records import ReportData
from simulator.serve import serve_in_thread
from simulator.truth import truth
from simulator.world import World
from tests.conftest import FIXED_NOW

START, END = date(2026, 1, 1), date(2026, 11, 22)


def _sim(seed: int = 7) -> Simulator:
    return Simulator(World.build("demo", seed), clock=SimClock(FIXED_NOW))


def _spikes(sim: Simulator) -> list[dict]:
    return [
        a for o in sim.world.organizations for a in truth(sim, o.slug, "anomalies", START, END)["anomalies"]
    ]


@pytest.fixture(scope="module")
def spikes() -> list[dict]:
    return _spikes(_sim())


def test_the_truth_lists_spikes_of_console_keys_enterprise_users_and_products(spikes):
    kinds = {(s["org"].split("-")[-1], s["slice_kind"]) for s in spikes}
    assert kinds == {("console", "api_key"), ("enterprise", "user"), ("enterprise", "product")}
    for s in spikes:
        assert set(s) == {"org", "day", "slice_kind", "slice", "multiplier"}
        # a seat user's days vary more than a key's or a product's: its runaway is 6-12x, the others 4-8x
        assert (6 <= s["multiplier"] <= 12) if s["slice_kind"] == "user" else (4 <= s["multiplier"] <= 8)
        assert date.fromisoformat(s["day"]).weekday() < 5


def test_spikes_are_deterministic_per_world_seed(spikes):
    assert _spikes(_sim()) == spikes
    assert _spikes(_sim(seed=8)) != spikes


def test_a_console_spike_names_a_key_with_usage_that_day():
    sim = _sim()
    org = sim.world.by_slug("acme-console")
    data = sim.data(org, "console")
    listed = truth(sim, org.slug, "anomalies", START, END)["anomalies"]
    assert listed
    for s in listed:
        day = date.fromisoformat(s["day"])
        assert data.spike(day)[0] == s["slice"]
        assert any(rec.dims[1] == s["slice"] for rec in data.records(day))
    # a day the generator draws no spike is never listed
    drawn = {d for d in (START + timedelta(n) for n in range((END - START).days)) if data.spike(d)}
    assert {date.fromisoformat(s["day"]) for s in listed} <= drawn


@pytest.mark.parametrize("kind", ["user", "product"])
def test_an_enterprise_spike_multiplies_the_tokens_of_its_slice_and_only_those(spikes, kind):
    sim = _sim()
    spike = next(s for s in spikes if s["slice_kind"] == kind)
    org = sim.world.by_slug(spike["org"])
    day = date.fromisoformat(spike["day"])
    with_spike = ReportData(org, sim.data(org, "activity")).day(day)
    plain = ReportData(org, sim.data(org, "activity"))
    plain._draw_spike = lambda d, cols: None  # the same day, drawn without its spike
    without = plain.day(day)
    code = (
        [u.id for u in org.users].index(spike["slice"]) if kind == "user" else PRODUCTS.index(spike["slice"])
    )
    hit = (with_spike.user if kind == "user" else with_spike.product) == code
    assert hit.any()
    ratio = with_spike.tokens[hit].sum() / without.tokens[hit].sum()
    assert ratio == pytest.approx(spike["multiplier"], rel=1e-3)
    assert np.array_equal(with_spike.tokens[~hit], without.tokens[~hit])
    assert with_spike.amt[hit].sum() > 3 * without.amt[hit].sum()  # the cost follows the tokens


def test_the_truth_route_serves_the_spikes(spikes):
    spike = spikes[0]
    with serve_in_thread(_sim()) as running:
        r = httpx.get(
            f"{running.base_url}/_simulator/truth",
            params={"org": spike["org"], "kind": "anomalies", "start": str(START), "end": str(END)},
            timeout=60,
        )
    assert r.status_code == 200
    assert spike in r.json()["anomalies"]

"""Anomaly detection on constructed series: weekday seasonality is not flagged, a spike is flagged with the
right driver, both floors are respected, a step is flagged when it happens and then absorbed, only settled
days are judged, and the thresholds are configuration."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pandas as pd
import pytest
from pydantic import ValidationError

from claude_assets.config import AnomalySettings, ProjectConfig
from claude_assets.insights.anomalies.detection import baseline, judge
from claude_assets.insights.anomalies.find import anomaly_id, find

SETTINGS = AnomalySettings()
START = date(2026, 3, 2)  # a Monday
DAYS = [START + timedelta(days=n) for n in range(70)]
#: a working week and a quiet weekend: Saturday and Sunday a fifth of a weekday
WEEKLY = (1.0, 1.1, 1.05, 1.0, 0.9, 0.2, 0.15)


def seasonal(level: float, noise: float = 0.05, seed: int = 1) -> dict[date, float]:
    r = random.Random(seed)
    return {d: level * WEEKLY[d.weekday()] * (1 + r.uniform(-noise, noise)) for d in DAYS}


def rows(
    slices: dict[tuple[str, str], dict[date, float]], measure: str = "cost_usd", org: str = "acme"
) -> pd.DataFrame:
    """Series rows as the facts give them: each slice judged, the total their sum, its children listed."""
    out = []
    total: dict[date, float] = {}
    for (kind, name), values in slices.items():
        for d, v in values.items():
            out.append((org, d, measure, None, None, kind, name, f"{v:.6f}"))
            total[d] = total.get(d, 0.0) + v
    out += [(org, d, measure, None, None, "total", "all", f"{v:.6f}") for d, v in total.items()]
    return pd.DataFrame(
        out,
        columns=["org_id", "usage_date", "measure", "parent_kind", "parent", "slice_kind", "slice", "value"],
    )


def judged(frame: pd.DataFrame, days=None, settled=None, settings=SETTINGS) -> list[dict]:
    return find("acme", frame, settled or DAYS, days or DAYS[35:], settings)


def test_weekday_seasonality_is_not_flagged():
    # weekdays five times the weekend, every week: Monday after a quiet Sunday is usual, not a spike
    frame = rows({("api_key", "k1"): seasonal(400), ("api_key", "k2"): seasonal(300, seed=2)})
    assert judged(frame) == []
    # a weekly batch: every Monday four times the other weekdays is usual for this key, not an anomaly
    r = random.Random(3)
    batch = {
        d: 500 * (4 if d.weekday() == 0 else WEEKLY[d.weekday()]) * (1 + r.uniform(-0.05, 0.05)) for d in DAYS
    }
    assert judged(rows({("api_key", "batch"): batch})) == []


def test_a_spike_is_flagged_on_its_slice_and_the_total_with_the_right_top_driver():
    k1, k2 = seasonal(400), seasonal(300, seed=2)
    spike_day = DAYS[50]  # a Wednesday
    k2[spike_day] *= 6
    found = judged(
        rows({("api_key", "k1"): k1, ("api_key", "k2"): k2, ("model", "m1"): seasonal(700, seed=3)})
    )
    flagged = {(r["usage_date"], r["slice_kind"], r["slice"]) for r in found}
    assert flagged == {(spike_day, "api_key", "k2"), (spike_day, "total", "all")}
    total = next(r for r in found if r["slice_kind"] == "total")
    assert (total["top_driver_kind"], total["top_driver"]) == ("api_key", "k2")
    assert total["top_driver_share"] == pytest.approx(1.0, abs=0.1)
    drivers = json.loads(total["drivers"])
    assert drivers[0]["slice"] == "k2" and "k1" not in {d["slice"] for d in drivers[:1]}
    assert "k2" in total["explanation"] and str(spike_day) in total["explanation"]
    assert total["severity"] in ("medium", "high") and float(total["actual_usd"]) > float(total["upper_usd"])
    assert total["actual_tokens"] is None  # a cost row fills the USD figures only


def test_the_top_driver_is_the_most_specific_slice_explaining_most_of_the_change():
    k1, k2, k3 = seasonal(400), seasonal(300, seed=2), seasonal(300, seed=4)
    spike_day = DAYS[50]
    k2[spike_day] *= 6
    k3[spike_day] += 150  # a small rise of another key on the same model: the model explains more than k2
    model = {d: k1[d] + k2[d] + k3[d] for d in DAYS}
    frame = rows({("api_key", "k1"): k1, ("api_key", "k2"): k2, ("api_key", "k3"): k3})
    frame = pd.concat([frame, rows({("model", "m1"): model})[lambda f: f.slice_kind == "model"]])
    total = next(r for r in judged(frame) if r["slice_kind"] == "total")
    shares = {d["slice"]: d["share"] for d in json.loads(total["drivers"])}
    assert shares["m1"] > shares["k2"] > SETTINGS.driver_min_share
    assert (total["top_driver_kind"], total["top_driver"]) == ("api_key", "k2")


@pytest.mark.parametrize(
    ("level", "multiplier", "flagged"),
    [
        (8.0, 5.0, False),  # +400% but $32 above expected: under the $50 floor
        (2000.0, 1.4, False),  # $800 above expected but +40%: under the 50% floor, however unusual
        (2000.0, 1.6, True),  # both floors crossed
    ],
)
def test_both_floors_must_be_crossed(level, multiplier, flagged):
    # no noise and no least spread: any rise is out of the usual range, so only the floors decide
    settings = AnomalySettings(min_relative_spread=0)
    series = {d: level * WEEKLY[d.weekday()] for d in DAYS}
    day = DAYS[51]
    series[day] *= multiplier
    assert (judge(series, day, float(settings.min_usd), settings) is not None) is flagged


def test_the_materiality_floor_is_a_share_of_the_organization_total():
    # one key's $300 jump (+150%) beside a $10,000-a-day key: 3 % of the organization's total
    small, big = seasonal(200), seasonal(10_000, seed=2)
    small[DAYS[51]] += 300
    frame = rows({("api_key", "small"): small, ("api_key", "big"): big})
    assert judged(frame, days=[DAYS[51]]) == []  # by default a rise must be 10 % of the organization's day
    every_rise = ProjectConfig(anomalies={"min_total_pct": 0}).anomalies
    assert {r["slice"] for r in judged(frame, days=[DAYS[51]], settings=every_rise)} == {"small"}
    big[DAYS[51]] += 8_000  # 80 % of the organization's day: material
    assert "big" in {r["slice"] for r in judged(rows({("api_key", "big"): big}), days=[DAYS[51]])}


def test_materiality_on_a_weekend_is_judged_against_a_usual_working_day():
    # a weekend job's key (Saturdays only) spends +$400: 20 % of the organization's quiet Saturday, 4 % of a
    # usual working day
    small = {d: 50.0 if d.weekday() == 5 else 0.0 for d in DAYS}
    big = seasonal(10_000, seed=2)
    saturday = next(d for d in DAYS[50:] if d.weekday() == 5)
    small[saturday] += 400
    frame = rows({("api_key", "small"): small, ("api_key", "big"): big})
    assert judged(frame, days=[saturday]) == []
    every_rise = ProjectConfig(anomalies={"min_total_pct": 0}).anomalies
    assert "small" in {r["slice"] for r in judged(frame, days=[saturday], settings=every_rise)}


def intermittent(level: float, idle: float, seed: int) -> dict[date, float]:
    """A key used on a random share of days (idle on the rest), within about 20 % of its weekday level."""
    r = random.Random(seed)
    return {
        d: 0.0 if r.random() < idle else level * WEEKLY[d.weekday()] * r.lognormvariate(0, 0.2) for d in DAYS
    }


def test_a_key_idle_on_random_days_is_rarely_flagged_on_its_usual_days_and_its_spike_always_is():
    quiet_flags, judged_days = [], 0
    for seed in range(8):
        key = intermittent(150, idle=0.3, seed=seed)
        judged_days += len(DAYS[35:])
        quiet_flags += [r for r in judged(rows({("api_key", "k"): key})) if r["slice_kind"] == "api_key"]
        spike_day = next(d for d in DAYS[50:] if key[d] > 0 and d.weekday() < 5)
        key[spike_day] = 150 * WEEKLY[spike_day.weekday()] * 6
        found = judged(rows({("api_key", "k"): key}), days=[spike_day])
        assert ("api_key", "k") in {(r["slice_kind"], r["slice"]) for r in found}, seed
    # a used day after idle ones of its weekday is usual, not a rise: at most one in 280 key-days
    assert len(quiet_flags) <= 1, [(r["usage_date"], r["actual_usd"], r["upper_usd"]) for r in quiet_flags]


def test_a_weekend_as_busy_as_a_usual_weekday_is_not_an_anomaly_and_one_far_busier_is():
    key = seasonal(400)
    saturday = next(d for d in DAYS[50:] if d.weekday() == 5)
    key[saturday] = 420  # a usual Tuesday's spend, on a Saturday that usually spends 80
    assert judged(rows({("api_key", "k"): key}), days=[saturday]) == []
    key[saturday] = 400 * 5
    assert judged(rows({("api_key", "k"): key}), days=[saturday]) != []


def test_a_day_back_at_its_usual_after_a_quiet_spell_is_not_an_anomaly():
    key = seasonal(400)
    back = DAYS[52]  # a Friday, after four quiet days
    for d in DAYS[48:52]:
        key[d] *= 0.25
    assert judged(rows({("api_key", "k"): key}), days=[back]) == []


def test_a_slice_of_cents_is_judged_through_its_parents():
    # a key that usually spends a few dollars jumps by $80 (+2000 %): judged in the total, not on its own
    k1, tiny = seasonal(60), seasonal(4, seed=5)
    tiny[DAYS[51]] += 80
    found = judged(rows({("api_key", "k1"): k1, ("api_key", "tiny"): tiny}), days=[DAYS[51]])
    assert [(r["slice_kind"], r["top_driver"]) for r in found] == [("total", "tiny")]
    everything = ProjectConfig(anomalies={"min_expected_pct_of_floor": 0}).anomalies
    assert {
        r["slice"] for r in judged(rows({("api_key", "tiny"): tiny}), days=[DAYS[51]], settings=everything)
    } >= {"tiny"}


def test_the_token_floor_applies_to_token_rows():
    floor = SETTINGS.min_tokens
    base = {d: floor / 2 * WEEKLY[d.weekday()] for d in DAYS}  # usual: half the floor a day or less
    small, large = dict(base), dict(base)
    small[DAYS[51]] += floor * 0.9  # +180% but under the token floor
    large[DAYS[51]] += floor * 1.1
    assert judged(rows({("model", "m"): small}, measure="tokens"), days=[DAYS[51]]) == []
    found = judged(rows({("model", "m"): large}, measure="tokens"), days=[DAYS[51]])
    assert {r["slice_kind"] for r in found} == {"model", "total"}
    assert all(r["actual_usd"] is None and r["actual_tokens"] == round(large[DAYS[51]]) for r in found)


def test_a_flat_then_step_series_is_flagged_at_the_step_then_absorbed():
    step = DAYS[42]  # a Monday
    series = {d: 1000.0 * (3 if d >= step else 1) for d in DAYS}
    flags = {d for d in DAYS[35:] if judge(series, d, float(SETTINGS.min_usd), SETTINGS)}
    assert step in flags
    assert not any(d < step for d in flags)
    assert not any(d >= step + timedelta(days=7) for d in flags)  # the new level is usual within a week
    week_after = baseline(series, step + timedelta(days=7), SETTINGS)
    assert week_after.expected == pytest.approx(3000, rel=0.01) and week_after.level == pytest.approx(
        3, rel=0.01
    )


@pytest.mark.parametrize(("multiplier", "severity"), [(1.7, "low"), (2.5, "medium"), (5.0, "high")])
def test_severity_follows_the_percent_above_expected(multiplier, severity):
    series = {d: 1000.0 * WEEKLY[d.weekday()] for d in DAYS}
    series[DAYS[51]] *= multiplier
    assert judge(series, DAYS[51], 50.0, SETTINGS).severity == severity


def test_only_settled_days_are_judged_and_only_settled_days_make_the_baseline():
    k = seasonal(400)
    spike_day = DAYS[50]
    k[spike_day] *= 6
    frame = rows({("api_key", "k"): k})
    assert judged(frame, settled=[d for d in DAYS if d != spike_day]) == []
    # an unsettled week of double spend is not part of the baseline of a day after it
    doubled = {d: v * (2 if DAYS[42] <= d < DAYS[49] else 1) for d, v in k.items()}
    settled = [d for d in DAYS if not DAYS[42] <= d < DAYS[49]]
    found = judged(rows({("api_key", "k"): doubled}), days=[spike_day], settled=settled)
    assert found and found[0]["level"] == pytest.approx(1.0, abs=0.1)


def test_a_slice_with_no_history_is_not_judged_but_drives_its_parent():
    k1, new = seasonal(400), dict.fromkeys(DAYS, 0.0)
    new[DAYS[50]] = 2000.0  # a key never seen before
    found = judged(rows({("api_key", "k1"): k1, ("api_key", "new"): new}))
    assert [(r["slice_kind"], r["top_driver"]) for r in found] == [("total", "new")]


def test_the_anomaly_id_is_stable_and_names_one_slice():
    a = anomaly_id("acme", DAYS[0], "cost_usd", "api_key", "k1")
    assert a == anomaly_id("acme", DAYS[0], "cost_usd", "api_key", "k1")
    assert a != anomaly_id("acme", DAYS[0], "tokens", "api_key", "k1")
    assert a != anomaly_id("acme", DAYS[1], "cost_usd", "api_key", "k1")


def test_the_thresholds_are_configuration():
    k = seasonal(400)
    k[DAYS[50]] *= 1.8  # +80%
    frame = rows({("api_key", "k"): k})
    assert judged(frame)  # above the default 50% floor
    assert judged(frame, settings=ProjectConfig(anomalies={"min_pct": 100}).anomalies) == []


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("anomalies", "field"),
    [
        ({"min_pct": 200, "medium_pct": 100}, "percent thresholds"),
        ({"baseline_weeks": 2, "min_baseline_weeks": 3}, "min_baseline_weeks"),
        ({"min_usd": -1}, "min_usd"),
        ({"min_dollars": 5}, "min_dollars"),
    ],
)
def test_wrong_thresholds_are_refused_naming_the_field(anomalies, field):
    with pytest.raises(ValidationError, match=field):
        ProjectConfig(anomalies=anomalies)


def _flagged_row() -> dict:
    k = seasonal(400)
    k[DAYS[50]] *= 6
    return judged(rows({("api_key", "k"): k}), days=[DAYS[50]])[0]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"severity": "critical"}, "severity"),
        ({"measure": "dollars"}, "measure"),
        ({"actual_tokens": 5}, "a cost row fills the *_usd figures only"),
        ({"actual_usd": "1.00"}, "actual must be above the usual range"),
        ({"explanation": None}, "explanation"),
    ],
)
def test_a_wrong_row_is_refused_before_anything_is_written(change, column):
    from checks.window import SchemaViolation, validate
    from claude_assets.insights.anomalies.assets import SCHEMA
    from claude_assets.insights.anomalies.store import to_frame
    from claude_assets.insights.anomalies.tables import COST_ANOMALIES

    good = _flagged_row()
    validate(SCHEMA, COST_ANOMALIES, to_frame([good]))  # the row as found passes
    with pytest.raises(SchemaViolation, match="nothing was written") as refused:
        validate(SCHEMA, COST_ANOMALIES, to_frame([{**good, **change}]))
    assert column in str(refused.value.failures.to_string())

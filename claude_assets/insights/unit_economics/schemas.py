"""Pandera schemas of the unit economics rows before they are written: every declared column, NOT NULL
where declared, money exact and non-negative, counts non-negative, known kinds and bases, idle seats
within the seats, every ratio null exactly when its denominator is zero or unknown, and sources named."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from checks import schemas as sc
from claude_assets.insights.unit_economics.tables import (
    DAILY_RATIOS,
    MONTHLY_RATIOS,
    UNIT_ECONOMICS_DAILY,
    UNIT_ECONOMICS_MONTHLY,
)
from claude_assets.warehouse.contract import MONEY, Table


def _ratio_null_iff_no_denominator(num: str, den: str, ratio: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        known = df[num].notna() & df[den].notna() & (df[den].fillna(0) != 0)
        return known == df[ratio].notna()

    return pa.Check(
        check,
        name=f"{ratio}_null_iff_no_{den}",
        error=f"{ratio} must be null exactly when {num} or {den} is unknown or {den} is 0",
    )


def _figures_named(df: pd.DataFrame) -> pd.Series:
    figures = ["daily_active_users", "seats", "claude_code_sessions"]
    has = df[[f for f in figures if f in df.columns]].notna().any(axis=1)
    return ~has | df["activity_source"].notna()


def _idle_within_seats(df: pd.DataFrame) -> pd.Series:
    return df["idle_seats"].isna() | (df["idle_seats"] <= df["seats"])


def _schema(table: Table, ratios: dict[str, tuple[str, str]]) -> pa.DataFrameSchema:
    checks: dict[str, list[pa.Check]] = {
        c.name: [sc.NON_NEGATIVE_DECIMAL] if c.type == MONEY else [sc.NON_NEGATIVE]
        for c in table.columns
        if c.type in (MONEY, "BIGINT", "INTEGER")
    }
    checks["org_kind"] = [pa.Check.isin(["console", "enterprise"])]
    checks["cost_basis"] = [pa.Check.isin(["billed", "estimate"])]
    base = sc.staged_schema(table, checks)
    frame_checks = [
        *(_ratio_null_iff_no_denominator(num, den, ratio) for ratio, (num, den) in ratios.items()),
        pa.Check(
            _figures_named,
            name="figures_name_their_source",
            error="a row with user, seat or Claude Code figures must name activity_source",
        ),
        pa.Check(_idle_within_seats, name="idle_within_seats", error="idle_seats must not exceed seats"),
        pa.Check(
            lambda df: (
                (df["cost_basis"] == "billed")
                | ((df["org_kind"] == "console") & (df["product"] == "claude_code"))
            ),
            name="estimate_only_for_console_claude_code",
            error="only Console Claude Code cost is an estimate; every other cost is billed",
        ),
    ]
    return pa.DataFrameSchema(base.columns, checks=frame_checks, strict=True, name=table.qualified)


DAILY_SCHEMA = _schema(UNIT_ECONOMICS_DAILY, DAILY_RATIOS)
MONTHLY_SCHEMA = _schema(UNIT_ECONOMICS_MONTHLY, MONTHLY_RATIOS)
SCHEMAS = {UNIT_ECONOMICS_DAILY: DAILY_SCHEMA, UNIT_ECONOMICS_MONTHLY: MONTHLY_SCHEMA}

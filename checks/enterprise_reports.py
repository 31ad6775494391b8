"""Cross-table checks of the Claude Enterprise usage and cost reports (``raw.enterprise_*``, ``raw.analytics_*``).

- ``grouped_equals_total`` (blocking): each grouping of a bucketed report adds up, per day, to the
  ungrouped total of the same pull, exactly (BIGINT tokens and DECIMAL money). This is the proof that
  the top-100-groups-per-bucket rule cut nothing.
- ``amount_within_list``: no cost line is billed above its list price.
- ``user_cost_vs_org_cost`` (WARN): the per-user cost report covers seat users only, so its daily sum
  stays at or below the organization's total; the gap (non-seat usage) is reported, not hidden.

Every function evaluates exactly the windows a run wrote (per organization, ``[start, end)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg
import duckdb

from checks.markdown import rows_table
from claude_assets.warehouse.contract import MONEY, Table
from claude_assets.warehouse.writes import INGEST_LOG

GROUPED_EQUALS_TOTAL = "grouped_equals_total"
AMOUNT_WITHIN_LIST = "amount_within_list"
USER_COST_VS_ORG_COST = "user_cost_vs_org_cost"
Windows = dict[str, list[tuple[date, date]]]


def grouped_spec(table: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        GROUPED_EQUALS_TOTAL,
        asset=table.asset_key,
        blocking=True,
        description="Per day, every grouping that partitions the organization's usage (all but the overlapping "
        "RBAC groups) adds up exactly to the ungrouped total of the same pull: nothing was cut by "
        "the API's top-100-groups-per-bucket rule.",
    )


def amount_spec(table: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        AMOUNT_WITHIN_LIST,
        asset=table.asset_key,
        blocking=False,
        description="No row has amount_usd (after the negotiated discount) above list_amount_usd.",
    )


def user_vs_org_spec(user_table: Table, org_table: Table) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        USER_COST_VS_ORG_COST,
        asset=user_table.asset_key,
        blocking=False,
        description=f"Per day, the sum of {user_table.qualified} is at most the organization's total in "
        f"{org_table.qualified} (the API documents that per-user cost covers seat users only); the "
        "gap (Claude in Slack channels, Code Review, unattributed usage, code execution) is reported.",
    )


def _where(windows: Windows, alias: str = "") -> tuple[str, list]:
    p = f"{alias}." if alias else ""
    spans = [(org, s, e) for org, ss in windows.items() for s, e in ss]
    sql = " OR ".join(f"({p}org_id = ? AND {p}usage_date >= ? AND {p}usage_date < ?)" for _ in spans)
    return f"({sql})", [x for span in spans for x in span]


def _exists(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [table.schema, table.name],
        ).fetchone()[0]
    )


def _nothing(table: Table, name: str, **kw) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=name,
        passed=True,
        metadata={"note": "no day of this run was requested from the API"},
        **kw,
    )


def grouped_equals_total(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    windows: Windows,
    *,
    groupings: Sequence[str],
    measures: Sequence[str],
    nullable: Sequence[str] = (),
    total: str = "total",
) -> dg.AssetCheckResult:
    """Compare, per organization and day, each grouping's sums of ``measures`` with the ``total`` grouping's.

    ``nullable`` measures are compared only where both sides are fully non-null (e.g. ``requests``,
    which the API nulls when a cost report is grouped by cost or token type).
    """
    if not windows:
        return _nothing(table, GROUPED_EQUALS_TOTAL)
    where, params = _where(windows)
    sums = ", ".join(f'sum("{m}") AS "{m}", count(*) - count("{m}") AS "{m}__nulls"' for m in measures)
    values = ", ".join("(?)" for _ in groupings)
    compare = []
    for m in measures:
        differ = f'coalesce(g."{m}", 0) <> coalesce(t."{m}", 0)'
        if m in nullable:
            differ = f'(coalesce(g."{m}__nulls", 0) = 0 AND coalesce(t."{m}__nulls", 0) = 0 AND {differ})'
        compare.append(f"CASE WHEN {differ} THEN '{m}' END")
    sql = f"""
        WITH scope AS (SELECT * FROM {table.qualified} WHERE {where}),
        days AS (SELECT DISTINCT org_id, usage_date FROM scope),
        want(grouping) AS (VALUES {values}),
        t AS (SELECT org_id, usage_date, {sums} FROM scope WHERE grouping = ? GROUP BY ALL),
        g AS (SELECT org_id, usage_date, grouping, {sums} FROM scope WHERE grouping <> ? GROUP BY ALL),
        cmp AS (
          SELECT d.org_id, d.usage_date, w.grouping,
                 concat_ws(', ', {", ".join(compare)}) AS differs,
                 {", ".join(f'coalesce(g."{m}", 0) AS "g_{m}", coalesce(t."{m}", 0) AS "t_{m}"' for m in measures[:2])}
          FROM days d CROSS JOIN want w
          LEFT JOIN t ON t.org_id = d.org_id AND t.usage_date = d.usage_date
          LEFT JOIN g ON g.org_id = d.org_id AND g.usage_date = d.usage_date AND g.grouping = w.grouping)
        SELECT * FROM cmp ORDER BY usage_date, org_id, grouping"""
    rows = con.execute(sql, [*params, *groupings, total, total]).fetchall()
    bad = [r for r in rows if r[3]]
    days = {(r[0], r[1]) for r in rows}
    names = [
        "org_id",
        "usage_date",
        "grouping",
        "differs",
        *(f"{side}_{m}" for m in measures[:2] for side in ("grouped", "total")),
    ]
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=GROUPED_EQUALS_TOTAL,
        passed=not bad,
        metadata={
            "days_compared": len(days),
            "groupings_compared": list(groupings),
            "measures": list(measures),
            "mismatches": len(bad),
            "first_mismatches": dg.MetadataValue.md(rows_table(bad[:20], names)),
        },
    )


def amount_within_list(con: duckdb.DuckDBPyConnection, table: Table, windows: Windows) -> dg.AssetCheckResult:
    if not windows:
        return _nothing(table, AMOUNT_WITHIN_LIST)
    where, params = _where(windows)
    n, amount, lst = con.execute(
        f"SELECT count(*) FILTER (WHERE amount_usd > list_amount_usd), coalesce(sum(amount_usd), 0), "
        f"coalesce(sum(list_amount_usd), 0) FROM {table.qualified} WHERE {where}",
        params,
    ).fetchone()
    sample = con.execute(
        f"SELECT org_id, usage_date, amount_usd, list_amount_usd, source_request FROM {table.qualified} "
        f"WHERE {where} AND amount_usd > list_amount_usd ORDER BY ALL LIMIT 10",
        params,
    ).fetchall()
    return dg.AssetCheckResult(
        asset_key=table.asset_key,
        check_name=AMOUNT_WITHIN_LIST,
        passed=n == 0,
        metadata={
            "rows_above_list": n,
            "sum_amount_usd": str(amount),
            "sum_list_amount_usd": str(lst),
            "examples": dg.MetadataValue.md(
                rows_table(
                    sample, ["org_id", "usage_date", "amount_usd", "list_amount_usd", "source_request"]
                )
            ),
        },
    )


def user_cost_vs_org_cost(
    con: duckdb.DuckDBPyConnection,
    user_table: Table,
    org_table: Table,
    windows: Windows,
    *,
    org_filter: str = "grouping = 'total'",
) -> dg.AssetCheckResult:
    """Per-user sum vs organization total per day; days whose organization total was never loaded are listed."""
    if not windows:
        return _nothing(user_table, USER_COST_VS_ORG_COST, severity=dg.AssetCheckSeverity.WARN)
    uw, up = _where(windows)
    ow, op = _where(windows)
    lw, lp = _where(windows, "l")
    if not _exists(con, org_table):  # never loaded: every day is reported as without an organization total
        ow, op, lw, lp = "false", [], "false", []
        org_source = (
            f"(SELECT NULL::VARCHAR AS org_id, NULL::DATE AS usage_date, 0::{MONEY} AS amount_usd, "
            f"0::{MONEY} AS list_amount_usd, NULL::VARCHAR AS grouping)"
        )
    else:
        org_source = org_table.qualified
    rows = con.execute(
        f"""
        WITH u AS (SELECT org_id, usage_date, sum(amount_usd) AS a, sum(list_amount_usd) AS l
                   FROM {user_table.qualified} WHERE {uw} GROUP BY ALL),
        o AS (SELECT org_id, usage_date, sum(amount_usd) AS a, sum(list_amount_usd) AS l
              FROM {org_source} WHERE {ow} AND {org_filter} GROUP BY ALL),
        logged AS (SELECT org_id, usage_date FROM {INGEST_LOG.qualified} l WHERE table_name = ? AND {lw}),
        days AS (SELECT org_id, usage_date FROM u UNION SELECT org_id, usage_date FROM logged)
        SELECT d.org_id, d.usage_date, coalesce(u.a, 0), coalesce(o.a, 0), coalesce(o.a, 0) - coalesce(u.a, 0),
               coalesce(u.l, 0), coalesce(o.l, 0), coalesce(o.l, 0) - coalesce(u.l, 0),
               EXISTS (SELECT 1 FROM logged g WHERE g.org_id = d.org_id AND g.usage_date = d.usage_date)
        FROM days d LEFT JOIN u USING (org_id, usage_date) LEFT JOIN o USING (org_id, usage_date)
        ORDER BY d.usage_date, d.org_id""",
        [*up, *op, org_table.qualified, *lp],
    ).fetchall()
    compared = [r for r in rows if r[8]]
    missing = sorted({f"{r[0]} {r[1]}" for r in rows if not r[8]})
    over = [r for r in compared if r[2] > r[3] or r[5] > r[6]]
    users_a, org_a = sum(r[2] for r in compared), sum(r[3] for r in compared)
    users_l, org_l = sum(r[5] for r in compared), sum(r[6] for r in compared)
    share = float((org_a - users_a) / org_a * 100) if org_a else 0.0
    sides = ("users", "org", "gap")
    names = [
        "org_id",
        "usage_date",
        *(f"{side}_{m}" for m in ("amount_usd", "list_amount_usd") for side in sides),
    ]
    return dg.AssetCheckResult(
        asset_key=user_table.asset_key,
        check_name=USER_COST_VS_ORG_COST,
        passed=not over,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "days_compared": len(compared),
            "days_above_org_total": len(over),
            "days_without_org_total": len(missing),
            "first_days_without_org_total": missing[:10],
            "users_amount_usd": str(users_a),
            "org_amount_usd": str(org_a),
            "gap_amount_usd": str(org_a - users_a),
            "users_list_amount_usd": str(users_l),
            "org_list_amount_usd": str(org_l),
            "gap_list_amount_usd": str(org_l - users_l),
            "gap_share_percent": dg.MetadataValue.float(round(share, 4)),
            "explanation": "The per-user report covers usage attributed to a seat user; Claude in Slack channel "
            "usage, Code Review, unattributed ('other') usage and code execution appear only in the "
            "organization's report.",
            "by_day": dg.MetadataValue.md(rows_table([r[:8] for r in (over or compared)[:31]], names)),
        },
    )

"""The summary ``make demo`` prints: rows per table, exact billed cost by organization and model, the top
workspaces, and the outcome of every check."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, timedelta

import duckdb
from rich.console import Console

from demo.anomaly_summary import anomaly_summary
from demo.budget_summary import budget_status
from demo.facts_summary import summarize_facts
from demo.tables import has_columns, has_table, table, usd


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, bool]]:
    return con.execute("""
        SELECT t.schema_name, t.table_name,
               EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.schema_name = t.schema_name
                       AND c.table_name = t.table_name AND c.column_name = 'usage_date')
        FROM duckdb_tables() t WHERE t.database_name = current_database() ORDER BY 1, 2""").fetchall()


def _provisional_days(con: duckdb.DuckDBPyConnection, out: Console) -> None:
    """The days stored before their source had finished them (raw.ingest_log), so nobody takes them as final."""
    if not has_columns(con, "raw.ingest_log", {"provisional", "final_after"}):
        return
    found = con.execute("""
        SELECT table_name, org_id, string_agg(usage_date::VARCHAR, ', ' ORDER BY usage_date),
               max(final_after)
        FROM raw.ingest_log WHERE provisional GROUP BY ALL ORDER BY 1, 2""").fetchall()
    if not found:
        return
    days = table(
        "Provisional days: stored before the source had finished them, pulled again once final",
        "table",
        "organization",
        "days",
        "final after (UTC)",
    )
    for name, org, listed, final_after in found:
        when = final_after.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if final_after else "unknown"
        days.add_row(name, org, listed, when)
    out.print(days)


def summarize(warehouse: str, start: date, end: date, facts_end: date, results, out: Console) -> None:
    """The raw tables, then the facts over the days they were built for, then every check's outcome."""
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = table(f"Tables in {os.path.relpath(warehouse)}", "table", "rows>", "organizations>", "days")
        for schema, name, daily in _tables(con):
            per_org = has_columns(
                con, f"{schema}.{name}", {"org_id"}
            )  # the price book is not per organization
            n, orgs = con.execute(
                f'SELECT count(*), {"count(DISTINCT org_id)" if per_org else "NULL"} FROM "{schema}"."{name}"'
            ).fetchone()
            span = ""
            if daily and n:
                first, last = con.execute(
                    f'SELECT min(usage_date), max(usage_date) FROM "{schema}"."{name}"'
                ).fetchone()
                span = f"{first} → {last}"
            rows.add_row(f"{schema}.{name}", f"{n:,}", "—" if orgs is None else str(orgs), span)
        out.print(rows)
        _provisional_days(con, out)

        if has_table(con, "raw.console_cost"):
            window = [start, end]
            cost = table(
                f"Billed cost by organization and model, {start} → {end - timedelta(days=1)} "
                "(exact sums in DuckDB, shown to the cent)",
                "organization",
                "model",
                "cost (USD)>",
                "share>",
            )
            by_model = con.execute(
                """
                SELECT org_id, coalesce(model, '(' || replace(cost_type, '_', ' ') || ')') AS model, sum(amount_usd) AS usd,
                       sum(amount_usd) / sum(sum(amount_usd)) OVER (PARTITION BY org_id) AS share
                FROM raw.console_cost WHERE usage_date >= ? AND usage_date < ?
                GROUP BY 1, 2 ORDER BY org_id, usd DESC, model""",
                window,
            ).fetchall()
            totals = dict(
                con.execute(
                    """SELECT org_id, sum(amount_usd) FROM raw.console_cost
                WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL""",
                    window,
                ).fetchall()
            )
            for i, (org, model, amount, share) in enumerate(by_model):
                if i and by_model[i - 1][0] != org:
                    cost.add_section()
                cost.add_row(org, model, usd(amount), f"{share:.1%}")
                if i + 1 == len(by_model) or by_model[i + 1][0] != org:
                    cost.add_row(
                        f"[bold]{org}[/bold]",
                        "[bold]total[/bold]",
                        f"[bold]{usd(totals[org])}[/bold]",
                        f"exact {totals[org].normalize():f}",
                    )
            out.print(cost)

            top = table("Top workspaces by billed cost", "organization", "workspace", "cost (USD)>")
            names = "NULL"
            if has_columns(con, "inventory.workspaces", {"org_id", "workspace_id", "name", "valid_from"}):
                # the workspace's latest name from the inventory history (made by the inventory assets)
                names = """(SELECT w.name FROM inventory.workspaces w WHERE w.org_id = c.org_id
                            AND w.workspace_id = c.workspace_id ORDER BY w.valid_from DESC LIMIT 1)"""
            for org, ws, name, amount in con.execute(
                f"""
                SELECT org_id, workspace_id, {names} AS name, sum(amount_usd) AS usd
                FROM raw.console_cost c WHERE usage_date >= ? AND usage_date < ?
                GROUP BY ALL ORDER BY usd DESC, org_id, workspace_id LIMIT 8""",
                window,
            ).fetchall():
                label = "(default workspace)" if ws is None else (name or ws)
                top.add_row(org, label, usd(amount))
            out.print(top)
        summarize_facts(con, start, facts_end, out)
        for part in (*anomaly_summary(con), *budget_status(con)):
            out.print(part)

    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    outcome = Counter(e.passed for e in evaluations)
    runs_failed = [r for r in results if not r.success]
    line = (
        f"Checks: [green]{outcome[True]} passed[/green], "
        f"[{'red' if outcome[False] else 'green'}]{outcome[False]} failed[/]"
        f" ({len(results)} run{'s' if len(results) != 1 else ''}: "
        f"{', '.join(r.run_id[:8] for r in results)})"
    )
    out.print(line)
    for e in evaluations:
        if not e.passed:
            out.print(f"  [red]✗[/red] {e.asset_key.to_user_string()} · {e.check_name}")
    for r in runs_failed:
        out.print(f"  [red]run {r.run_id[:8]} failed[/red]: see it in the UI (make ui)")
        for step, error in _step_errors(r):
            out.print(f"    {step}: {error}", markup=False, highlight=False)


def _step_errors(result) -> list[tuple[str, str]]:
    """Each failed step of a run with the first line of its error (the UI has the whole trace)."""
    found = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = getattr(event.event_specific_data, "error", None)
        while error is not None and error.cause is not None:  # the user code's error, not Dagster's wrapper
            error = error.cause
        if error is None:
            found.append((event.step_key or "run", "unknown error"))
            continue
        first_line = next(iter(error.message.strip().splitlines()), "")
        named = first_line if first_line.startswith(error.cls_name) else f"{error.cls_name}: {first_line}"
        found.append((event.step_key or "run", named))
    return found

"""The facts part of the summary ``make demo`` prints: billed and list cost by organization, product and model,
the API keys and users with the most allocated cost, and each organization's reconciliation waterfall.

Every figure is an exact DuckDB DECIMAL sum, shown to the cent (the waterfall to the micro-dollar, since
its smallest causes are rounding)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
from rich.console import Console

from demo.tables import has_table, table, usd

TOP = 8


def _window(start: date, end: date) -> str:
    return f"{start} → {end - timedelta(days=1)}"


def _money(value: Decimal | None, places: int = 2) -> str:
    return f"${(value or Decimal(0)):,.{places}f}"


def cost_by_product_and_model(con: duckdb.DuckDBPyConnection, start: date, end: date, out: Console) -> None:
    shown = table(
        f"facts.cost: billed and list cost by organization, product and model, {_window(start, end)} "
        "(billed lines only; estimates are never added to billed)",
        "organization",
        "product",
        "model",
        "billed (USD)>",
        "list (USD)>",
        "billed / list>",
    )
    rows = con.execute(
        """
        SELECT org_id,
               coalesce(product, CASE org_kind WHEN 'console' THEN 'Claude API' ELSE '(every product)' END),
               coalesce(model, '(' || replace(coalesce(cost_type, 'other'), '_', ' ') || ')'),
               sum(billed_cost_usd), sum(list_cost_usd), count(*) FILTER (WHERE list_cost_usd IS NULL)
        FROM facts.cost
        WHERE charge_kind = 'billed' AND usage_date >= ? AND usage_date < ?
        GROUP BY ALL ORDER BY 1, 4 DESC, 3""",
        [start, end],
    ).fetchall()
    for i, (org, product, model, billed, listed, unpriced) in enumerate(rows):
        if i and rows[i - 1][0] != org:
            shown.add_section()
        ratio = f"{billed / listed:.1%}" if listed else "—"
        shown.add_row(org, product, model, usd(billed), usd(listed) + (" *" if unpriced else ""), ratio)
    estimates = con.execute(
        """SELECT org_id, source, sum(estimated_cost_usd) FROM facts.cost
           WHERE charge_kind = 'estimate' AND usage_date >= ? AND usage_date < ? GROUP BY ALL ORDER BY ALL""",
        [start, end],
    ).fetchall()
    out.print(shown)
    for org, source, amount in estimates:
        out.print(f"  estimate, not billed: {org} {source} {usd(amount)}")


def top_allocated(con: duckdb.DuckDBPyConnection, start: date, end: date, out: Console) -> None:
    for kind, label, column, name_sql in (
        (
            "api_key",
            "API keys",
            "api_key_id",
            _key_name() if has_table(con, "inventory.api_keys") else "NULL",
        ),
        ("user", "users", "user_id", _user_email() if has_table(con, "raw.enterprise_user_cost") else "NULL"),
    ):
        shown = table(
            f"facts.cost_allocation: {label} by allocated billed cost, {_window(start, end)}",
            "organization",
            label[:-1],
            "cost (USD)>",
        )
        for org, ident, name, amount in con.execute(
            f"""
            SELECT a.org_id, a.{column}, {name_sql} AS name, sum(a.allocated_cost_usd) AS usd
            FROM facts.cost_allocation a
            WHERE a.allocated_to_kind = ? AND a.usage_date >= ? AND a.usage_date < ?
            GROUP BY ALL ORDER BY usd DESC, a.org_id, a.{column} LIMIT {TOP}""",
            [kind, start, end],
        ).fetchall():
            label_of = (f"{name} ({ident})" if kind == "api_key" else name) if name else ident
            shown.add_row(org, label_of, usd(amount))
        out.print(shown)


def _key_name() -> str:
    """The key's latest name from the inventory history."""
    return """(SELECT k.name FROM inventory.api_keys k WHERE k.org_id = a.org_id AND k.api_key_id = a.api_key_id
              ORDER BY k.valid_from DESC LIMIT 1)"""


def _user_email() -> str:
    """The user's email as the per-user report last gave it (null for deleted users)."""
    return """(SELECT u.email FROM raw.enterprise_user_cost u WHERE u.org_id = a.org_id AND u.user_id = a.user_id
              ORDER BY u.usage_date DESC LIMIT 1)"""


def waterfalls(con: duckdb.DuckDBPyConnection, start: date, end: date, out: Console) -> None:
    shown = table(
        f"facts.cost_reconciliation: from one figure to the other, by named cause, {_window(start, end)}",
        "organization",
        "comparison",
        "step",
        "USD>",
    )
    lines = con.execute(
        """
        WITH line AS (
            SELECT DISTINCT org_id, usage_date, comparison, product, model, cost_type, token_type,
                   from_figure_usd, to_figure_usd, from_figure, to_figure
            FROM facts.cost_reconciliation WHERE usage_date >= ? AND usage_date < ?
        )
        SELECT org_id, comparison, any_value(from_figure), sum(from_figure_usd), any_value(to_figure),
               sum(to_figure_usd)
        FROM line GROUP BY ALL ORDER BY ALL""",
        [start, end],
    ).fetchall()
    causes = con.execute(
        """SELECT org_id, comparison, cause, sum(amount_usd) FROM facts.cost_reconciliation
           WHERE usage_date >= ? AND usage_date < ? GROUP BY ALL ORDER BY org_id, comparison, min(step)""",
        [start, end],
    ).fetchall()
    for i, (org, comparison, from_name, from_usd, to_name, to_usd) in enumerate(lines):
        if i:
            shown.add_section()
        shown.add_row(org, comparison, f"from: {from_name}", _money(from_usd, 6))
        for c_org, c_comparison, cause, amount in causes:
            if (c_org, c_comparison) == (org, comparison) and amount:
                shown.add_row("", "", f"  {cause.replace('_', ' ')}", f"{amount:+,.6f}")
        shown.add_row("", "", f"to: {to_name}", _money(to_usd, 6))
    out.print(shown)


def summarize_facts(con: duckdb.DuckDBPyConnection, start: date, end: date, out: Console) -> None:
    """Print every facts summary whose table the warehouse holds."""
    if has_table(con, "facts.cost"):
        cost_by_product_and_model(con, start, end, out)
    if has_table(con, "facts.cost_allocation"):
        top_allocated(con, start, end, out)
    if has_table(con, "facts.cost_reconciliation"):
        waterfalls(con, start, end, out)

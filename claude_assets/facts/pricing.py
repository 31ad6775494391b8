"""Pricing usage at list price from ``facts.price_book``, in SQL, exactly.

``priced_sql(relation)`` is a SELECT over any relation (table, view or parenthesised subquery) with at
least the columns

    usage_date DATE, model VARCHAR, token_type VARCHAR, service_tier VARCHAR, context_window VARCHAR,
    inference_geo VARCHAR, speed VARCHAR, quantity BIGINT

that returns every column of the relation plus

* ``list_cost_usd`` DECIMAL(38, 12): quantity x the base price as of ``usage_date`` x every multiplier
  whose condition the row meets; NULL when no base price matches (an unknown model or token type),
  never 0.
* ``price_rule`` VARCHAR: which base row and which multipliers applied, e.g.
  ``claude-sonnet-4-5 output_tokens 15 USD/MTok from 2024-01-01 (default) x 0.5 (service_tier=batch)``,
  or ``unpriced: no price for <model> <token_type> on <day>``.

Quantity units by token type: tokens for the five ``*_tokens`` types, searches for
``web_search_requests``, and millionths of a container-hour for ``code_execution_hours`` (so a quantity
stays an exact integer: 1 hour = 1,000,000).

Matching: a model id matches the longest base-price stem it starts with (``claude-sonnet-4-5-20250929``
-> ``claude-sonnet-4-5``; the stem must be the whole id or be followed by ``-``), and a ``*`` row
serves any model that has no row of its own for the token type (web search, code execution).
Multipliers apply on the resolved stem (a ``claude-opus-5`` fast-mode row never reaches
``claude-opus-5-5``) or on ``*``, one per condition key: the model's own row before ``*``, an exact
token type before a glob. A row applies from ``effective_from`` to ``effective_to`` inclusive.

Arithmetic is DECIMAL throughout: a price has at most 6 decimals, a multiplier at most 2 (the price
book's loader enforces both), so the cost is exact before its one rounding to 12 decimals; a
quantity of 10^16 or more, or a price above 100 USD per quantity unit, fails loudly rather than lose
digits.
"""

from __future__ import annotations

from claude_assets.warehouse.sql import sql_file

_PRICED = sql_file(__file__, "priced")


def priced_sql(relation: str) -> str:
    """A SELECT of every row and column of ``relation`` plus ``list_cost_usd`` and ``price_rule``."""
    return _PRICED.replace("{relation}", relation)


def unpriced_models_sql(priced_relation: str) -> str:
    """The models a priced relation (one with ``list_cost_usd``, e.g. ``facts.usage`` or
    ``(priced_sql(...))``) could not price: one row per model with its unpriced token types, row count and
    first and last day, for a check that warns with the model names. Empty when everything is priced."""
    return f"""
        SELECT coalesce(model, '(no model)') AS model,
               string_agg(DISTINCT coalesce(token_type, '(no token type)'), ', '
                          ORDER BY coalesce(token_type, '(no token type)')) AS token_types,
               count(*) AS row_count,
               min(usage_date) AS first_day,
               max(usage_date) AS last_day
        FROM {priced_relation} AS unpriced
        WHERE list_cost_usd IS NULL
        GROUP BY ALL
        ORDER BY model
    """

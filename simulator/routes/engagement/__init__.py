"""Enterprise Analytics engagement endpoints (reference B0, B0.1, B1-B7).

``/summaries`` returns the day series in one page (``data`` + the deprecated ``summaries`` alias +
``next_page: null``). The other six use the opaque-cursor envelope ``{"data": [...], "next_page": ...}``
with cursors bound to the query. Every record is rendered from the columnar results of
:mod:`simulator.generators.engagement`, so only the rows of the requested page are ever turned into JSON.
"""

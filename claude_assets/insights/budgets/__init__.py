"""Budgets: spend to date of each budget of the ``budgets_file`` against its amount and threshold ladder, a
forecast to the period's end, and the first day each threshold was crossed (on actual and on forecast).

Modules: ``file`` (the budget file, validated by file, line and field), ``periods`` (which version is in
effect and which period a day falls in), ``spend`` (a scope's daily spend from the facts), ``forecast``
(the run-rate with weekday seasonality), ``tables`` (the declarations), ``status`` (the computation and its
atomic write), ``assets`` (the Dagster definition)."""

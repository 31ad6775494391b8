"""Alerts: each new anomaly (``insights.cost_anomalies``) and each new budget threshold crossing
(``insights.budget_crossings``) posted once to the configured webhooks, every request recorded in
``insights.alert_log``."""

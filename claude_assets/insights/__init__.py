"""The insights layer (schema ``insights``): what the facts mean for the people who pay for them —
anomalies with their drivers, budgets with forecasts, alerts delivered once, unit economics. Built from
``facts.*`` on settled days (``insights.settled``), one package per kind of insight."""

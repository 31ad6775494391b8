"""Cost and usage anomalies (``insights.cost_anomalies``): each settled day of each organization and slice
compared with a robust weekly-seasonal baseline, flagged past both a dollar (or token) floor and a percent
floor, with the child slices that drive the change. ``detection`` and ``drivers`` are pure; ``series``
reads the facts; ``frame`` shapes the rows; ``assets`` holds the Dagster definition."""

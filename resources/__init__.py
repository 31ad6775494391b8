"""The Anthropic API clients, as Dagster resources: auth, pagination, retries, rate limit, redaction, typed errors."""

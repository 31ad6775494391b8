"""A faithful, deterministic simulator of the Anthropic Admin API and Claude Enterprise Analytics API."""

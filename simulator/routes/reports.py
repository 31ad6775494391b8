"""Placeholder: filled in by the reports family."""

ENDPOINTS: list = []

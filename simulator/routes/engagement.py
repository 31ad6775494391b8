"""Placeholder: filled in by the engagement family."""

ENDPOINTS: list = []

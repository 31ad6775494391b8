"""Placeholder until the Console family lands."""

ENDPOINTS: list = []

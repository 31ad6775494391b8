"""Exports (schema ``exports``): datasets in open formats built from the facts, e.g. FOCUS cost data."""

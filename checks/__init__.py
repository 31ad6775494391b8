"""Pandera schemas from the table declarations and the asset checks of every table (no import-time side effects)."""

"""Personal data: pseudonyms below the raw layer and retention of old rows (docs/privacy.md)."""

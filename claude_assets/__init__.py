"""claude-assets: the Dagster code location (``claude_assets.definitions``) and its layers; the map is docs/architecture.md."""

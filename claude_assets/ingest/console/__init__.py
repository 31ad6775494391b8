"""Console Admin API reports: token usage, billed cost and Claude Code activity (``raw.console_*``, ``raw.claude_code_*``)."""

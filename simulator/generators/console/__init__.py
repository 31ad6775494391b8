"""Console (Admin API) traffic: token usage, billed cost and Claude Code activity per organization and day.

A day's usage is a list of fine-grained records (one per key, model, tier, context window, geo and
speed), generated lazily and cached. The usage report groups these records; the cost report bills
them with the simulator's price list (priority tier excluded, code execution added), rounding once
per record and token type, so every grouping of the same day adds up to the same micro-cents.
"""

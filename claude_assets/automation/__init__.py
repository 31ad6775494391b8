"""Automation: sensors that request runs when the warehouse says data needs pulling (started by hand)."""

"""Index price processes (exogenous) and mark price rules (per venue)."""

"""Spot markets (pure core): their balances, the index rules that read them, their configs."""

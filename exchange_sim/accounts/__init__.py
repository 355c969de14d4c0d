"""Balances, positions, PnL, margin requirements, liquidation and bankruptcy prices."""

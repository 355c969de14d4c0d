"""The venue's SimPy shell: order gateway, market-data feed (and, later, risk and liquidation)."""

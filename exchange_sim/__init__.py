"""exchange_sim: a discrete-event simulator of a crypto perpetual-futures exchange.

Built to study liquidation cascades. See README.md and docs/design.md.
"""

__version__ = "0.1.0"

"""Replay: rebuild a run's state from its event log alone and check every recorded result.

:mod:`.stream` reads the log (bounded memory, structure and digest), :mod:`.state` holds what is
rebuilt (books, accounts, fund, vault, funding), :mod:`.market_checks`, :mod:`.money_checks` and
:mod:`.liquidation_checks` recompute each event from that state with the venue's own rules, and
:mod:`.audit` drives them and compares the final ``summary.json`` figures.
"""

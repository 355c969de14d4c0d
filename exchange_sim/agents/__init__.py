"""Participants: market makers, noise traders (and later leveraged traders, arbitrageurs)."""

"""Venue presets: the rule sets of real venues as config data."""

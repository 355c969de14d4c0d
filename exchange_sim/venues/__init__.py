"""Venue presets: bundles of mark rule, margin tiers, liquidation policy, fund/vault, ADL and
funding modelled on real venues, selectable with ``venue.preset`` and overridable key by key."""

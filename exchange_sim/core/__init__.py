"""Units, the rounding rule, RNG streams, id generators and the error hierarchy.

Nothing here imports simpy.
"""

"""The risk monitor: trigger-price index, latency-delayed margin checks, margin calls."""

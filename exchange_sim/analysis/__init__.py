"""Reading run logs back: verification and the causal cascade tree."""

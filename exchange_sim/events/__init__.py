"""Event records, the JSON Lines log writer, its digest, and the schema of every event type."""

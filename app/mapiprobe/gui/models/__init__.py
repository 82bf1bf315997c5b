"""Qt item models: thin adapters over session objects and the trace (no protocol logic, no network calls)."""

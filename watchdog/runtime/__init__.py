"""`watchdog run`: scheduling, alert lifecycle, state, metrics and the embedding API."""

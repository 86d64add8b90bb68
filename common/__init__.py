"""The small kit every Malgeul process shares: settings, logging, errors, health, metrics, model files."""

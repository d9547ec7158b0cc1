"""watchdog: invariant checks for job schedulers, compiled from YAML rules to read-only SQL probes."""
__version__ = "0.1.0"

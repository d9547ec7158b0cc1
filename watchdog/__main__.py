"""`python -m watchdog` is the console script."""
from watchdog.cli import entry

entry()

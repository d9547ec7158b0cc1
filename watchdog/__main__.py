"""`python -m watchdog` is the console script."""
import sys

from watchdog.cli import main

sys.exit(main())

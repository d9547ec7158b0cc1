"""`watchdog doctor`: a rule file checked against the live database before its verdicts are trusted."""

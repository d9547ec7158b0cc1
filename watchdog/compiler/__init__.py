"""Compiling: a validated rule + its check kind -> a Probe (SQL with bound parameters) per dialect."""

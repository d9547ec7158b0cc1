"""Value types every stage shares (durations, conditions, expectations): no imports from above."""

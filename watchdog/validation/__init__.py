"""The validation framework: YAML with locations and typed fields. It sits below both the rule file
(`watchdog.config`) and the check catalogue (`watchdog.catalogue`), so neither imports the other upward."""

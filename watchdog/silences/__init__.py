"""Silences of the rule file: which rules they match and when their windows hold, pure and clock-injected.

`windows` places a silence's windows in time (across daylight saving changes), `active` says which
silences quiet a rule or an alert at an instant, `lint` finds the silences `validate` warns about.
Every function takes the silences it judges (from the plan's current rule file) and `now`, so a
reload that swaps the rule file is seen at the next call, and tests freeze nothing but the argument.
"""

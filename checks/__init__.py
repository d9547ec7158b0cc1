"""The built-in check catalogue: each kind is NAME.yaml (parameter spec) beside NAME.sql (template)."""

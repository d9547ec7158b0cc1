"""The check catalogue: kinds loaded from `checks/` (built in) and from the user's `check_paths`."""

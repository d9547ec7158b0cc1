"""One evaluator for every command: work units, per-target pools, one treatment of a target that
cannot be reached. `check`, `check --wait`, `run`, `run --once`, `explain` and the embedding API
all evaluate through `Evaluator`."""

"""Rule loading: YAML with locations -> validated, defaulted rule file model."""

"""The end-to-end tests use the artifact tests' fixtures: real binaries and the HTTP receiver."""
from artifacts.conftest import alertmanager_binary, prometheus_binary, receiver  # noqa: F401 (fixtures)

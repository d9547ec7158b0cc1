"""Probing: connect to targets read-only and run compiled probes, turning every failure into a result."""

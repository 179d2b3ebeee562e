"""The narrow services HTTP handlers receive by dependency injection, one per module."""

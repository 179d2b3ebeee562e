"""Strategies wired to the application: registry and the job-run handle."""

"""Runnable examples of Jobstream's integrations (see docs/events.md)."""

"""Audit and replay: event histories, past states, verification, live rebuilds."""

"""Medusa v1's product CSV: the export's columns and cells (pure; no I/O)."""

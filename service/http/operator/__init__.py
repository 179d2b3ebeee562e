"""Jobstream's operator API under /admin/jobstream (docs/operator-api.md)."""

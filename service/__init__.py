"""Jobstream's processes: HTTP API, job processing, projections, CLI."""

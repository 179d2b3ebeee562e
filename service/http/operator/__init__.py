"""The operator API under /admin/jobstream/ (a documented Jobstream extension)."""

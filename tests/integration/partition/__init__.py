"""Issue 14's partition tests: Jobstream across network namespaces, one host cut at a time.

Run as root (CI does): `.venv/bin/python -m pytest tests/integration/partition`. Each
role's log is kept under pytest's base temp, in `partition-logs*` (with
`--basetemp=DIR`, in DIR), to read after a failure.
"""

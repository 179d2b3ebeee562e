"""The operator's web console at /app: server-sent pages over the operator API."""

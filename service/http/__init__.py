"""The Medusa-compatible HTTP API (litestar + msgspec)."""

"""Admin authentication: password hashing, sessions, bearer and API tokens."""

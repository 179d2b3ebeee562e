"""What the `jobstream` command needs around its roles: arguments, errors, preflight checks."""

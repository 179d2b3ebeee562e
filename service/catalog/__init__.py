"""The catalog's application layer: commands, atomic change sets, lookups, read model."""

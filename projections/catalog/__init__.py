"""The catalog read model: products (with their full documents) and catalog records."""

"""The catalog: products, variants, regions, collections, sales channels, categories."""

"""Read models as one capability: each defined once, all hosted alike (service.read_models)."""

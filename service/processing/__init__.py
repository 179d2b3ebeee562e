"""Job processing: drives batch jobs through their strategies as events arrive."""

"""Jobstream's pure model: aggregates, events, rules. No I/O."""

"""The live feed of batch-job changes: pages of the event store, and reader wake-ups."""

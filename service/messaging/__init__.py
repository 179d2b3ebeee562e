"""NATS JetStream adapters: the event envelope, streams, and the outbox relay."""

"""File storage: one interface, a local-directory and a NATS JetStream object store."""

"""The batch-jobs read model that serves GET and list."""

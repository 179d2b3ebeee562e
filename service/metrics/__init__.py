"""Prometheus metrics: what each process observes, and what a scrape reads from stores."""

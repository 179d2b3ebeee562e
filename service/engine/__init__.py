"""The job engine: one worker loop over a work source, for every way jobs reach it.

`steps` runs a job's step under its lease (pure rules in domain.batch_jobs), `loop`
takes work from a `WorkSource` (the event store, JetStream, or memory) within slots
and per-type limits, keeps leases and heartbeats fresh, and settles each delivery.
Time comes from a `Clock`, so the rules run under a fake one in unit tests.
"""

"""APScheduler wiring only: each job calls one domain service."""

"""Out-of-process workers: the entrypoint backends start, and the channel back to the run's controller."""

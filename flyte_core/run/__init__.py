"""Running a run: the session, the run driver, the controller, the recorder, caching, recovery, the
backend protocol."""

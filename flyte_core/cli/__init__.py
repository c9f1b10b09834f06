"""The ``flyte`` command line: a client of the library, built with click and rich."""

"""The public surface behind the ``flyte`` package: init, run, build, and Flyte 2's platform entry
points."""

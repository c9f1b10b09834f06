"""``flyte.io``: File, Dir and DataFrame come from the type plugins (see typeplugins/)."""

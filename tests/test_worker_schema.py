"""The worker's spec and outcome files and the wire format share one schema version."""

from flyte_core import wire
from flyte_core.worker import entrypoint


def test_spec_schema_matches_wire() -> None:
    # entrypoint keeps its own copy so a worker's start-up does not import cattrs (through wire)
    assert entrypoint.SCHEMA_VERSION == wire.SCHEMA_VERSION

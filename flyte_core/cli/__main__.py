"""``python -m flyte_core.cli`` is the ``flyte`` command."""

from flyte_core.cli.main import main

main()

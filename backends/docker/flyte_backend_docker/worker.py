"""Runs inside a task container: unpack the run's code bundle, then run the attempt.

``python -m flyte_backend_docker.worker BUNDLE_URL CODE_DIR SPEC_PATH``; import-light on purpose,
since every container pays for its start-up.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Unpack the bundle into CODE_DIR (once per container) and run the entrypoint on SPEC_PATH."""
    args = sys.argv[1:] if argv is None else argv
    bundle, code_dir, spec_path = args
    # A marker, not the folder: the engine creates the working directory before we start.
    marker = os.path.join(code_dir, ".flyte-bundle")
    if bundle != "-" and not os.path.exists(marker):
        from pathlib import Path

        from flyte_backend_docker.bundle import extract_bundle

        extract_bundle(bundle, Path(code_dir))
        with open(marker, "w") as f:
            f.write(bundle)
    from flyte_core.entrypoint import main as run_attempt

    return run_attempt([spec_path])


if __name__ == "__main__":
    sys.exit(main())

"""``flyte.extras.shell``: bash script templates run in a container image, as in Flyte 2 (``create``, ``Glob``,
``Stdout``, ``Stderr``, ``FlagSpec``). Re-exports only, from the ``flyte-containertask`` plugin."""

from __future__ import annotations

try:
    from flyte_containertask.shell import DictMode, FlagSpec, Glob, OutputSpec, Stderr, Stdout, create, listMode
except ImportError as e:
    raise ImportError("flyte.extras.shell comes from the 'flyte-containertask' package; install it "
                      "(pip install flyte-containertask).") from e

__all__ = ["DictMode", "FlagSpec", "Glob", "OutputSpec", "Stderr", "Stdout", "create", "listMode"]

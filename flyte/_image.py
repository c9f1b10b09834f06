"""``flyte._image``: the image spec and its layer constructors under the names Flyte 2 programs import
(``from flyte._image import DIST_FOLDER, PythonWheels``). Re-exports only."""

from typing import Literal

from flyte_core.images.layers import (
    DIST_FOLDER,
    AptPackages,
    CodeBundleLayer,
    Commands,
    CopyConfig,
    DockerIgnore,
    Env,
    Layer,
    PipPackages,
    PixiProject,
    PixiScript,
    PoetryProject,
    PythonWheels,
    Requirements,
    UVProject,
    UVScript,
    WorkDir,
)
from flyte_core.images.spec import Image

#: The platforms an image can be built for (Flyte 2's name).
Architecture = Literal["linux/amd64", "linux/arm64"]
#: ``CopyConfig(path_type=...)``: 0 a file, 1 a folder.
CopyConfigType = Literal[0, 1]
#: The checkout flyte-core is installed from (Flyte 2: its own source root); ``DIST_FOLDER`` is under it.
SOURCE_ROOT = DIST_FOLDER.parent
#: Python versions as Flyte 2 names them, for ``from_debian_base(python_version=...)``.
PYTHON_3_10 = (3, 10)
PYTHON_3_11 = (3, 11)
PYTHON_3_12 = (3, 12)
PYTHON_3_13 = (3, 13)
PYTHON_3_14 = (3, 14)

__all__ = [
    "DIST_FOLDER", "PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13", "PYTHON_3_14", "SOURCE_ROOT",
    "CopyConfigType", "AptPackages", "Architecture", "CodeBundleLayer", "Commands", "CopyConfig", "DockerIgnore",
    "Env", "Image", "Layer", "PipPackages", "PixiProject", "PixiScript", "PoetryProject", "PythonWheels",
    "Requirements", "UVProject", "UVScript", "WorkDir",
]

"""``flyte._image``: the image spec and its layer constructors under the names Flyte 2 programs import
(``from flyte._image import DIST_FOLDER, PythonWheels``). Re-exports only."""

from typing import Literal

from flyte_core.image import Image, Layer
from flyte_core.image_layers import (
    DIST_FOLDER,
    AptPackages,
    CodeBundleLayer,
    Commands,
    CopyConfig,
    DockerIgnore,
    Env,
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

#: The platforms an image can be built for (Flyte 2's name).
Architecture = Literal["linux/amd64", "linux/arm64"]

__all__ = [
    "DIST_FOLDER", "AptPackages", "Architecture", "CodeBundleLayer", "Commands", "CopyConfig", "DockerIgnore",
    "Env", "Image", "Layer", "PipPackages", "PixiProject", "PixiScript", "PoetryProject", "PythonWheels",
    "Requirements", "UVProject", "UVScript", "WorkDir",
]

"""``flyte.extras.ContainerTask``: a task that runs an image's own command, with inputs and outputs as files."""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import os
import pathlib
import re
import shutil
import tempfile
from collections.abc import Callable
from typing import Any, Literal

import attrs

from flyte_containertask import staging
from flyte_core.extend import (
    Cache,
    ContainerCall,
    Image,
    Input,
    NativeInterface,
    Resources,
    TaskEnvironment,
    TaskTemplate,
    to_cache,
    to_retries,
    to_timeout,
)

_MetadataFormat = Literal["JSON", "YAML", "PROTO"]
_HERE = os.path.dirname(os.path.abspath(__file__))
# TaskTemplate settings a ContainerTask takes as keyword arguments, and those that belong to its environment.
_TASK_KWARGS = ("short_name", "cache", "retries", "timeout", "docs", "pod_template", "report", "max_inline_io_bytes")
_ENV_KWARGS = ("env_vars", "resources", "secrets", "interruptible", "reusable")


class ContainerTask(TaskTemplate[Any, Any]):
    """Runs ``command`` (+ ``arguments``) in ``image`` as a task callable from other tasks (``await
    task(x=1)``): each input is a file under ``input_data_dir`` (and ``{{.inputs.x}}`` in the command is
    replaced by its value); each output is read from the file of its name under ``output_data_dir``.

    On the docker backend it runs as a container of that image; on the local and local-process backends
    (and when called outside a run) through the Docker engine of this machine. The image needs nothing
    of Flyte's: no Python, no flyte-core.
    """

    MetadataFormat = _MetadataFormat

    def __init__(
        self,
        name: str,
        image: str | Image,
        command: list[str],
        inputs: dict[str, type] | None = None,
        arguments: list[str] | None = None,
        outputs: dict[str, type] | None = None,
        input_data_dir: str | pathlib.Path = "/var/inputs",
        output_data_dir: str | pathlib.Path = "/var/outputs",
        metadata_format: _MetadataFormat = "JSON",
        local_logs: bool = True,
        file_input_layout: Literal["DIRECT", "NAMED_DIR"] = "DIRECT",
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - set(_TASK_KWARGS) - set(_ENV_KWARGS)
        if unknown:
            raise TypeError(f"ContainerTask '{name}' got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
        if not command or any(not isinstance(c, str) for c in command):
            raise ValueError("All elements in the command list must be strings.")
        if arguments and any(not isinstance(a, str) for a in arguments):
            raise ValueError("All elements in the arguments list must be strings.")
        if metadata_format not in ("JSON", "YAML", "PROTO"):
            raise ValueError(f"ContainerTask '{name}': metadata_format must be JSON, YAML or PROTO, "
                             f"got {metadata_format!r}")
        if file_input_layout not in ("DIRECT", "NAMED_DIR"):
            raise ValueError(f"ContainerTask '{name}': file_input_layout must be DIRECT or NAMED_DIR")
        if image == "auto":
            image = Image.from_debian_base()
        self._image: Image = Image.from_base(image) if isinstance(image, str) else image
        self._cmd = list(command)
        self._args = list(arguments or [])
        self._inputs = dict(inputs or {})
        self._outputs = dict(outputs or {})
        self._input_data_dir = pathlib.Path(input_data_dir)
        self._output_data_dir = pathlib.Path(output_data_dir)
        self._metadata_format = metadata_format
        self._file_input_layout = file_input_layout
        self.local_logs = local_logs

        func = _body(self, name)
        env = TaskEnvironment(_env_name(name), image=self._image,
                              **{k: kwargs.pop(k) for k in _ENV_KWARGS if k in kwargs})
        if env.resources is not None and not isinstance(env.resources, Resources):
            raise TypeError(f"ContainerTask '{name}': resources must be flyte.Resources(...)")
        outs = list(self._outputs.values())
        output = None if not outs else outs[0] if len(outs) == 1 else tuple[tuple(outs)]  # type: ignore[misc]
        ins = tuple(Input(k, v) for k, v in self._inputs.items())
        super().__init__(
            func=func, env=env, name=name, short_name=kwargs.pop("short_name", None) or name,
            interface=NativeInterface(ins, output, {i.name: i for i in ins}), is_async=True,
            cache=self._versioned(to_cache(kwargs.pop("cache", "disable"))),
            retries=to_retries(kwargs.pop("retries", 0)),
            timeout=to_timeout(kwargs.pop("timeout", None)), **kwargs,
        )

    def _versioned(self, cache: Cache) -> Cache:
        """With ``cache="auto"``, the cache version follows what the container runs (image, command,
        arguments, data folders, formats), as Flyte 2's ContainerBodyPolicy does: there is no Python
        function whose source could version it."""
        if cache.behavior != "auto" or cache.version_override is not None:
            return cache
        body = json.dumps({"image": image_ref(self, check=False), "command": self._cmd, "args": self._args,
                           "input_data_dir": self._input_data_dir.as_posix(),
                           "output_data_dir": self._output_data_dir.as_posix(),
                           "metadata_format": self._metadata_format, "file_input_layout": self._file_input_layout},
                          sort_keys=True)
        return attrs.evolve(cache, version_override=hashlib.sha256(body.encode()).hexdigest())

    @property
    def image(self) -> Image:
        """The image the command runs in."""
        return self._image

    def override(self, **changes: Any) -> ContainerTask:
        """A copy with task settings changed (cache, retries, timeout, short_name, ...)."""
        conv: dict[str, Callable[[Any], Any]] = {"cache": to_cache, "retries": to_retries, "timeout": to_timeout}
        clone = copy.copy(self)
        clone.extra = dict(self.extra)
        for key, value in changes.items():
            if key in conv or key in _TASK_KWARGS:
                setattr(clone, key, conv.get(key, lambda v: v)(value))
                if key == "cache":
                    clone.cache = clone._versioned(clone.cache)
            else:
                clone.extra[key] = value
        return clone

    # --- the RawContainerTask contract (flyte_core.task.rawcontainer) ------------------------------------

    def container_call(self, inputs: dict[str, Any], host_dir: str) -> ContainerCall:
        """Stage ``inputs`` under ``host_dir``/inputs, make ``host_dir``/outputs, and say what to run."""
        ref = image_ref(self)
        host_in, host_out = pathlib.Path(host_dir, "inputs"), pathlib.Path(host_dir, "outputs")
        in_dir, out_dir = self._input_data_dir.as_posix(), self._output_data_dir.as_posix()
        paths = staging.stage_inputs(inputs, host_in, in_dir, self._metadata_format,
                                     self._file_input_layout == "NAMED_DIR")
        host_out.mkdir(parents=True, exist_ok=True)
        os.chmod(host_out, 0o777)  # the image may run as any user
        command = staging.render(self._cmd + self._args, inputs, paths, self.name)
        return ContainerCall(ref, command, {str(host_in): in_dir, str(host_out): out_dir})

    def container_outputs(self, host_dir: str) -> Any:
        """The outputs the command wrote: nothing, one value, or a tuple of them (in declaration order)."""
        found = staging.read_outputs(self._outputs, pathlib.Path(host_dir, "outputs"), self.name)
        if not found:
            return None
        return found[0] if len(found) == 1 else found

    def __repr__(self) -> str:
        return f"<ContainerTask {self.name} image={image_ref(self, check=False)}>"


def image_ref(task: ContainerTask, check: bool = True) -> str:
    """The reference of the task's image, run as it is (a ContainerTask's image is never built)."""
    img = task.image
    if img.base_image and not img.layers and img.dockerfile is None and not img.base_image.startswith("ref:"):
        return img.base_image
    if not check:
        return repr(img)
    raise ValueError(f"ContainerTask '{task.name}' needs a ready image to run (a reference such as 'alpine:3.19' or "
                     "flyte.Image.from_base(...)); build this one first (flyte build) and give its reference.")


def host_workdir(task_name: str) -> str:
    """A fresh host folder for one run of a container task (shared with the engine's containers)."""
    path = tempfile.mkdtemp(prefix=f"flyte-ct-{_env_name(task_name)}-")
    os.chmod(path, 0o755)
    return path


def remove_workdir(path: str) -> None:
    """Remove a run's host folder (files the container made as another user may stay; never fail)."""
    shutil.rmtree(path, ignore_errors=True)


def _env_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return cleaned or "container_task"


def _body(task: ContainerTask, name: str) -> Callable[..., Any]:
    """The function behind the task: runs the container through this machine's Docker engine. Named and
    placed like a module-level function of the user's module, so worker processes find the task again."""
    async def run_container(**kwargs: Any) -> Any:
        from flyte_containertask.engine import run_with_engine

        return await run_with_engine(task, kwargs)

    run_container.__name__ = run_container.__qualname__ = _env_name(name)
    run_container.__module__ = _caller_module()
    return run_container


def _caller_module() -> str:
    """The module of the first frame outside this package: where the user made the task."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.abspath(filename).startswith(_HERE):
            return str(frame.f_globals.get("__name__", "__main__"))
        frame = frame.f_back
    return "__main__"

"""A task's interface: its typed inputs and output, read from the function's type hints."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from flyte_core.errors.core import TaskDefinitionError, TaskInputError

#: Name of the single output, as Flyte 2 names the first output.
OUTPUT_NAME = "o0"


def output_fields(hint: Any) -> tuple[str, ...] | None:
    """The named outputs a ``NamedTuple`` return annotation declares, one per field, as in Flyte 2 (whose
    ``run.outputs()`` holds them in order); None for any other return annotation. The value still
    travels as one literal of the NamedTuple."""
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        return tuple(hint._fields)
    return None


@attrs.frozen
class Input:
    """One input parameter: its name, type hint and default (``Input.NO_DEFAULT`` when required)."""

    NO_DEFAULT: typing.ClassVar[object] = inspect.Parameter.empty

    name: str
    hint: Any
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        """True when the caller must pass a value."""
        return self.default is inspect.Parameter.empty


@attrs.frozen
class NativeInterface:
    """Inputs (in declaration order) and the output hint; ``output`` is ``None`` for ``-> None`` and
    for a function without a return annotation (no outputs, as in Flyte 2).

    ``problem`` holds why the task cannot run (an input without a type hint): it is raised when the
    task is run or its inputs are asked for, not when its module is imported, so the other tasks of
    the same file stay usable.
    """

    inputs: tuple[Input, ...]
    output: Any
    _by_name: Mapping[str, Input] = attrs.field(eq=False, repr=False)
    problem: str | None = None

    def check(self) -> None:
        """Raise :class:`TaskDefinitionError` if the task cannot run as written."""
        if self.problem is not None:
            raise TaskDefinitionError(self.problem)

    @classmethod
    def from_function(cls, fn: Callable[..., Any], task_name: str) -> NativeInterface:
        """Read the interface of ``fn``; a parameter without a hint is recorded as its ``problem``."""
        sig = inspect.signature(fn)
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except NameError as e:
            raise TaskDefinitionError(
                f"Task '{task_name}': a type hint names something that is not defined ({e}); "
                "import it at module level so the hint can be resolved."
            ) from e
        inputs: list[Input] = []
        problem: str | None = None
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TaskDefinitionError(
                    f"Task '{task_name}': parameter '{p.name}' is *args/**kwargs; tasks need named, "
                    "typed parameters."
                )
            if p.name not in hints:
                problem = problem or (
                    f"Task '{task_name}': parameter '{p.name}' has no type hint; add one "
                    f"(e.g. '{p.name}: int') so Flyte can move its value between tasks."
                )
                inputs.append(Input(p.name, Any, p.default))
                continue
            inputs.append(Input(p.name, hints[p.name], p.default))
        # No return annotation means no outputs, as in Flyte 2.
        output = hints.get("return")
        if output is type(None):
            output = None
        return cls(tuple(inputs), output, {i.name: i for i in inputs}, problem)

    def input(self, name: str) -> Input:
        """The input called ``name``."""
        return self._by_name[name]

    def bind(self, task_name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Map a call's positional and keyword arguments to input names, filling in defaults."""
        if not kwargs and self.problem is None and len(args) == len(self._by_name):
            return dict(zip(self._by_name, args))  # every input given by position: the common call
        if self.problem is not None:
            raise TaskDefinitionError(self.problem)
        if len(args) > len(self.inputs):
            raise TaskInputError(
                f"Task '{task_name}' takes {len(self.inputs)} input(s) but {len(args)} positional "
                "argument(s) were given."
            )
        bound: dict[str, Any] = {}
        for inp, value in zip(self.inputs, args):
            bound[inp.name] = value
        for name, value in kwargs.items():
            if name not in self._by_name:
                known = ", ".join(i.name for i in self.inputs) or "none"
                raise TaskInputError(
                    f"Task '{task_name}' has no input '{name}'; its inputs are: {known}."
                )
            if name in bound:
                raise TaskInputError(f"Task '{task_name}': input '{name}' was given twice.")
            bound[name] = value
        for inp in self.inputs:
            if inp.name not in bound:
                if inp.required:
                    raise TaskInputError(
                        f"Task '{task_name}' is missing required input '{inp.name}' "
                        f"({type_name(inp.hint)})."
                    )
                bound[inp.name] = inp.default
        return bound


def type_name(hint: Any) -> str:
    """A short readable name of a type hint, for messages and ``--help``."""
    if hint is None or hint is type(None):
        return "None"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    text = repr(hint)
    return text.replace("typing.", "")

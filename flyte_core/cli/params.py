"""Task inputs as command-line options: a click option per input, parsed by its type hint."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import click

from flyte_core.interface import Input, type_name

_SIMPLE: dict[Any, click.ParamType[Any]] = {int: click.INT, float: click.FLOAT, str: click.STRING}


class JsonParam(click.ParamType[Any]):
    """A structured value given as JSON, shaped to the input's hint (lists become tuples, ...)."""

    def __init__(self, hint: Any) -> None:
        self.hint = hint
        self.name = f"json {type_name(hint)}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            data = json.loads(value)
        except json.JSONDecodeError as e:
            self.fail(f"{value!r} is not valid JSON for {type_name(self.hint)} ({e.msg}).", param, ctx)
        try:
            return shape(data, self.hint)
        except (TypeError, ValueError) as e:
            self.fail(f"{value!r} does not fit {type_name(self.hint)}: {e}", param, ctx)


def shape(data: Any, hint: Any) -> Any:
    """Turn decoded JSON into the Python shape ``hint`` asks for (tuples, non-str dict keys)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return shape(data, args[0])
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return shape(data, a)
            except (TypeError, ValueError):
                continue
        raise ValueError(f"no member of {type_name(hint)} accepts {data!r}")
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError("expected a JSON list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(shape(x, args[0]) for x in data)
        return tuple(shape(x, a) for x, a in zip(data, args, strict=True))
    if origin is list:
        if not isinstance(data, list):
            raise TypeError("expected a JSON list")
        return [shape(x, args[0]) for x in data] if args else data
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        if not args:
            return data
        return {shape(json.loads(k) if args[0] is not str else k, args[0]): shape(v, args[1])
                for k, v in data.items()}
    if hint is float and isinstance(data, int):
        return float(data)
    if hint in (int, str, bool, float) and not isinstance(data, hint):
        raise TypeError(f"expected {hint.__name__}")
    return data


def option_for(inp: Input) -> click.Option:
    """The click option for one task input: ``--name VALUE`` (``--flag/--no-flag`` for bools)."""
    hint = inp.hint
    base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
    required = inp.required
    default = None if required else inp.default
    help_text = f"{type_name(hint)}" + ("" if required else f" (default: {inp.default!r})")
    # Click treats an explicit default (even None) as a given value, so required options get none.
    extra: dict[str, Any] = {"required": True} if required else {}
    if base is bool:
        if not required:
            extra["default"] = bool(default)
        return click.Option([f"--{inp.name}/--no-{inp.name}"], help=help_text, **extra)
    ptype = _SIMPLE.get(base) or JsonParam(hint)
    if isinstance(ptype, JsonParam):
        help_text += " as JSON"
        if default is not None and not isinstance(default, str):
            default = json.dumps(default)
    if not required:
        extra["default"] = default
    return click.Option([f"--{inp.name}"], type=ptype, show_default=False, help=help_text, **extra)

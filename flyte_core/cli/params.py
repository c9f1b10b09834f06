"""Task inputs as command-line options: a click option per input, parsed by its type hint."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import click

from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import Input, type_name
from flyte_core.types.shape import converter_for, shape

_SIMPLE: dict[Any, click.ParamType[Any]] = {int: click.INT, float: click.FLOAT, str: click.STRING}


class JsonParam(click.ParamType[Any]):
    """A structured value given as JSON, shaped to the input's hint (lists become tuples, ...)."""

    def __init__(self, hint: Any, engine: TypeEngine | None = None) -> None:
        self.hint = hint
        self.engine = engine
        self.name = f"json {type_name(hint)}"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            data = json.loads(value)
        except json.JSONDecodeError as e:
            self.fail(f"{value!r} is not valid JSON for {type_name(self.hint)} ({e.msg}).", param, ctx)
        try:
            return shape(data, self.hint, self.engine)
        except (TypeError, ValueError) as e:
            self.fail(f"{value!r} does not fit {type_name(self.hint)}: {e}", param, ctx)


class ParsedParam(click.ParamType):  # type: ignore[type-arg]
    """A value the input's type transformer parses from text (enums, datetimes, files, frames)."""

    def __init__(self, hint: Any, parse: Callable[[str], Any], form: str) -> None:
        self.hint = hint
        self.parse = parse
        self.name = form or type_name(hint)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except (TypeError, ValueError, OSError) as e:
            self.fail(f"{value!r} is not a valid {type_name(self.hint)}: {e}", param, ctx)


def option_for(inp: Input, engine: TypeEngine | None = None) -> click.Option:
    """The click option for one task input: ``--name VALUE`` (``--flag/--no-flag`` for bools).

    The input's converter may parse text itself (``Converter.from_cli``); otherwise structured
    values are JSON shaped to the hint.
    """
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
    conv = converter_for(engine, hint) if base not in _SIMPLE else None
    ptype: click.ParamType[Any]
    if base in _SIMPLE:
        ptype = _SIMPLE[base]
    elif conv is not None and conv.from_cli is not None:
        ptype = ParsedParam(hint, conv.from_cli, conv.cli_form)
        help_text += f" as {conv.cli_form}" if conv.cli_form else ""
    else:
        ptype = JsonParam(hint, engine)
        help_text += " as JSON"
        if default is not None and not isinstance(default, str):
            default = json.dumps(default, default=str)
    if not required:
        extra["default"] = default
    return click.Option([f"--{inp.name}"], type=ptype, show_default=False, help=help_text, **extra)
